"""Searching: the seed behaviours, the query syntax, malformed input, snippets."""

from __future__ import annotations

from dataclasses import replace

import pytest

import frsearch
from frsearch.search import make_snippet, parse_query
from tests.conftest import names


def search(index: frsearch.Index, query: str, **kw: object) -> list[str]:
    return names(index.search(query, **kw))


def test_lei_jun_blacklist_finds_001_first(seed_index: frsearch.Index) -> None:
    assert search(seed_index, "Lei Jun blacklist")[0] == "001_259af9e2aad0fd78.txt"


def test_etats_unis_finds_001_and_003_and_highlights_as_written(seed_index: frsearch.Index) -> None:
    results = seed_index.search("etats unis")
    found = names(results)
    assert "001_259af9e2aad0fd78.txt" in found and "003_94e0374b50dd973d.txt" in found
    hit = next(h for h in results if h.path.endswith("001_259af9e2aad0fd78.txt"))
    highlighted = [hit.snippet.text[s:e] for s, e in hit.snippet.spans]
    assert "États-Unis" in highlighted
    assert [hit.title[s:e] for s, e in hit.title_spans] == ["États-Unis"]


def test_hyphenated_compound_phrase_and_accented_forms(seed_index: frsearch.Index) -> None:
    plain = set(search(seed_index, "etats unis"))
    assert set(search(seed_index, '"etats unis"')) <= plain
    # A free hyphenated word finds its parts together or apart.
    assert set(search(seed_index, "États-Unis")) == plain
    assert "001_259af9e2aad0fd78.txt" in search(seed_index, '"etats unis"')


def _index_of(*bodies: str) -> frsearch.Index:
    index = frsearch.Index()
    index.add_documents({"id": f"d{i}", "title": "", "body": body} for i, body in enumerate(bodies))
    return index


def test_a_hyphenated_word_ranks_its_phrase_first_then_finds_either_part() -> None:
    index = _index_of(
        "Une pause pour le croûte du pain et la casse du matériel.",
        "La pause casse-croûte est due après six heures.",
        "Le casse est couvert par l'assurance.",
        "Rien de tout cela ici.",
    )
    assert [hit.id for hit in index.search("casse-croûte")][0] == "d1"
    assert {hit.id for hit in index.search("casse-croûte")} == {"d0", "d1", "d2"}
    assert [hit.id for hit in index.search("pause casse-croûte")][0] == "d1"
    # Only a part exists anywhere: the word still finds it.
    assert [hit.id for hit in _index_of("Le casse du siècle.").search("casse-brique")] == ["d0"]


def test_a_free_word_finds_the_forms_snowball_stems_apart() -> None:
    # Snowball gives démission "demiss" but démissionner "demission", and licencié
    # "licenc" but licenciement "licenci": each word meets the other form, ranked below
    # its own and, inside a phrase or with the option off, not at all.
    index = _index_of(
        "La démission du salarié est écrite.",
        "Le salarié peut démissionner sans motif.",
        "Le licenciement pour motif personnel.",
        "Le salarié licencié reçoit une indemnité.",
        "Rien de tout cela ici.",
    )
    assert [hit.id for hit in index.search("démission")] == ["d0", "d1"]
    assert [hit.id for hit in index.search("démissionner")] == ["d1", "d0"]
    assert [hit.id for hit in index.search("licencié")] == ["d3", "d2"]
    assert [hit.id for hit in index.search('"démission du salarié"')] == ["d0"]
    engine = index.engine()
    engine.options = replace(engine.options, related_mode="")
    assert [hit.id for hit in engine.search("démission")] == ["d0"]


def test_a_related_form_weighs_less_than_the_word_even_when_rarer() -> None:
    # "contr" (contrer) is one of a word family's rarer neighbours of "contrat": it may
    # find a document, but never outranks one with the word itself.
    index = _index_of(
        *[f"Le contrat numéro {i}." for i in range(30)],
        "Il faut contrer cette idée.",
    )
    ids = [hit.id for hit in index.search("contrat", limit=40)]
    assert ids[-1] == "d30" and len(ids) == 31


def test_a_hyphenated_word_stays_a_phrase_when_quoted_required_excluded_or_numbered() -> None:
    assert parse_query('"casse-croûte"').describe() == '"cass crout"'
    assert parse_query("+casse-croûte pause").describe() == '(+"cass crout" paus)'
    assert parse_query("pause -casse-croûte").describe() == '(paus -"cass crout")'
    assert parse_query("L1234-5").describe() == '"l1234 5"'
    index = _index_of("Le casse est couvert.", "La pause casse-croûte.")
    assert [hit.id for hit in index.search("pause -casse-croûte")] == []
    assert [hit.id for hit in index.search("casse -casse-croûte")] == ["d0"]


def test_phrase_and_word(seed_index: frsearch.Index) -> None:
    assert search(seed_index, '"Lei Jun" Tesla')[0] == "002_8d6083a8515aed8c.txt"


def test_french_or(seed_index: frsearch.Index) -> None:
    assert sorted(search(seed_index, "Zuckerberg OU Musk")) == [
        "000_60564f4e513c8b83.txt", "002_8d6083a8515aed8c.txt"]
    assert sorted(search(seed_index, "Zuckerberg OR Musk")) == sorted(search(seed_index, "Zuckerberg OU Musk"))


def test_french_not(seed_index: frsearch.Index) -> None:
    expected = ["001_259af9e2aad0fd78.txt", "002_8d6083a8515aed8c.txt", "003_94e0374b50dd973d.txt"]
    assert sorted(search(seed_index, "Xiaomi SAUF Facebook")) == expected
    assert sorted(search(seed_index, "Xiaomi NOT Facebook")) == expected
    assert sorted(search(seed_index, "Xiaomi -Facebook")) == expected


def test_and_and_required(seed_index: frsearch.Index) -> None:
    both = sorted(search(seed_index, "Zuckerberg ET Xiaomi"))
    assert both == ["000_60564f4e513c8b83.txt"]
    assert sorted(search(seed_index, "+Zuckerberg Xiaomi")) == both
    assert sorted(search(seed_index, "Zuckerberg AND Xiaomi")) == both


def test_parentheses(seed_index: frsearch.Index) -> None:
    assert sorted(search(seed_index, "(Zuckerberg OU Musk) SAUF Tesla")) == ["000_60564f4e513c8b83.txt"]


def test_title_field(seed_index: frsearch.Index) -> None:
    assert search(seed_index, "title:Singapour") == ["004_772669a71db343fa.txt"]
    assert search(seed_index, "titre:Singapour") == ["004_772669a71db343fa.txt"]


def test_accents_and_plurals(seed_index: frsearch.Index) -> None:
    assert search(seed_index, "véhicules électriques")[0] == "002_8d6083a8515aed8c.txt"
    assert search(seed_index, "vehicule electrique")[0] == "002_8d6083a8515aed8c.txt"


def test_prefix_and_fuzzy(seed_index: frsearch.Index) -> None:
    assert "001_259af9e2aad0fd78.txt" in search(seed_index, "blacklis*")
    assert len(search(seed_index, "Xiaomy~")) == 5
    assert "001_259af9e2aad0fd78.txt" in search(seed_index, "etat~")
    assert "000_60564f4e513c8b83.txt" in search(seed_index, "Zuckerbergg~2")


def test_phrase_slop(seed_index: frsearch.Index) -> None:
    assert not search(seed_index, '"Xiaomi patron"')
    assert search(seed_index, '"Xiaomi patron"~10')


def test_phrase_across_stopwords(seed_index: frsearch.Index) -> None:
    assert "001_259af9e2aad0fd78.txt" in search(seed_index, '"liste noire des États-Unis"')
    assert "001_259af9e2aad0fd78.txt" in search(seed_index, '"liste noire États-Unis"')


def test_a_word_found_nowhere_does_not_empty_a_question(seed_index: frsearch.Index) -> None:
    assert search(seed_index, "pourquoi Xiaomi est-il blacklisté zzzyzzx")[0] == "001_259af9e2aad0fd78.txt"


def test_documents_with_all_words_rank_first(seed_index: frsearch.Index) -> None:
    results = seed_index.search("Facebook Zuckerberg Xiaomi")
    assert names(results)[0] == "000_60564f4e513c8b83.txt"  # the only one with all three
    # No seed has all of these: the two that have two of the three words come first.
    results = seed_index.search("Facebook Zuckerberg Singapour")
    assert set(names(results)[:2]) == {"000_60564f4e513c8b83.txt", "004_772669a71db343fa.txt"}


def test_typo_in_an_unknown_word_is_tolerated(seed_index: frsearch.Index) -> None:
    assert search(seed_index, "Zukerberg")[0] == "000_60564f4e513c8b83.txt"
    assert search(seed_index, "Singapoure")[0] == "004_772669a71db343fa.txt"


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "(Xiaomi", "Xiaomi)", "OR Xiaomi", "Xiaomi NOT", "foo:Xiaomi",
     "Xiaomi AND", "((((Xiaomi))))", '"Lei Jun"~', "Xiaomi ~ *", "***Xiaomi", "Xia*mi"],
)
def test_malformed_queries_search_what_can_be_read(seed_index: frsearch.Index, query: str) -> None:
    results = seed_index.search(query)
    assert isinstance(results.total, int)


@pytest.mark.parametrize(
    "query", ["", "   ", "le la les", "!!!", "*", "a*", "NOT", "AND", "()", '""', "title:", "-", "+"]
)
def test_queries_with_nothing_searchable_raise_query_error(seed_index: frsearch.Index, query: str) -> None:
    with pytest.raises(frsearch.QueryError):
        seed_index.search(query)


def test_deep_nesting_and_long_queries_are_refused() -> None:
    with pytest.raises(frsearch.QueryError, match="deep"):
        parse_query("(" * 100 + "x" + ")" * 100)
    with pytest.raises(frsearch.QueryError, match="too long"):
        parse_query("mot " * 2000)


def test_pagination_and_total(seed_index: frsearch.Index) -> None:
    all_hits = search(seed_index, "Xiaomi", limit=10)
    assert len(all_hits) == 5
    assert search(seed_index, "Xiaomi", limit=2, offset=2) == all_hits[2:4]
    assert seed_index.search("Xiaomi", limit=1).total == 5


def test_snippet_spans_point_at_highlighted_words() -> None:
    body = "Début du texte.\n\nLes   États-Unis ont placé Xiaomi sur liste noire. " + "Bla. " * 100 + "Fin Xiaomi."
    snippet = make_snippet(body, {"etat", "unis", "xiaom"})
    words = [snippet.text[s:e] for s, e in snippet.spans]
    assert words[:2] == ["États-Unis", "Xiaomi"]
    assert "  " not in snippet.text and "\n" not in snippet.text


def test_snippet_without_match_is_the_start_of_the_text() -> None:
    snippet = make_snippet("Un texte sans rien de spécial.", {"absent"})
    assert snippet.text == "Un texte sans rien de spécial." and snippet.spans == []


@pytest.mark.parametrize(
    "query, suggestion",
    [
        ("Zukerberg Facebok", "Zuckerberg Facebook"),
        ("vehicules electrqiues", "vehicules électriques"),
        # Too unsure to suggest (a 6-letter name one edit from a name; two edits), still found.
        ("Xiaomy", None),
        ("etats unsi", None),
        ("singapore", None),
    ],
)
def test_did_you_mean_replaces_only_the_mistyped_words(
    seed_index: frsearch.Index, query: str, suggestion: str | None
) -> None:
    results = seed_index.search(query)
    assert results.suggestion == suggestion and results.total > 0


def test_no_suggestion_when_every_word_is_known(seed_index: frsearch.Index) -> None:
    assert seed_index.search("Lei Jun blacklist").suggestion is None
    assert seed_index.search("Xiaomi", suggest=False).suggestion is None


def test_osa_distance_counts_a_swap_as_one_edit() -> None:
    from frsearch.search import osa_distance

    assert osa_distance("unsi", "unis") == 1
    assert osa_distance("chat", "chats") == 1
    assert osa_distance("abc", "abc") == 0
    assert osa_distance("kitten", "sitting") == 3


def test_explain_shows_terms_fields_and_expansions(seed_index: frsearch.Index) -> None:
    lines = seed_index.search("etats unsi -Facebook title:xiaomi smart*").explain()
    text = "\n".join(lines)
    assert lines[0].startswith("query: ")
    assert "etats -> etat" in text
    assert "unsi -> unsi: not in the index" in text
    assert "xiaomi -> xiaom (in title only)" in text
    assert "smart -> smart prefix: matches smartphon" in text
    assert "Facebook -> facebook" in text


def test_filters_by_folder_and_glob(tmp_path, seeds_copy) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.md").write_text("# Xiaomi ailleurs\n\nUn autre texte sur Xiaomi.", encoding="utf-8")
    index = frsearch.Index()
    index.index_paths([str(seeds_copy), str(other)])
    assert len(index.search("Xiaomi")) == 6
    assert names(index.search("Xiaomi", under=str(other))) == ["note.md"]
    assert len(index.search("Xiaomi", under=str(seeds_copy))) == 5
    assert names(index.search("Xiaomi", glob="*.md")) == ["note.md"]
    assert names(index.search("Xiaomi", glob="00[12]_*")) in (
        ["001_259af9e2aad0fd78.txt", "002_8d6083a8515aed8c.txt"],
        ["002_8d6083a8515aed8c.txt", "001_259af9e2aad0fd78.txt"],
    )
    assert index.search("Xiaomi", glob="*.md").total == 1


def test_sort_by_path_and_mtime(seeds_copy) -> None:
    import os
    import time

    newest = seeds_copy / "003_94e0374b50dd973d.txt"
    os.utime(newest, (time.time() + 100, time.time() + 100))
    index = frsearch.Index()
    index.index_paths([str(seeds_copy)])
    by_path = names(index.search("Xiaomi", sort="path"))
    assert by_path == sorted(by_path)
    assert names(index.search("Xiaomi", sort="mtime"))[0] == newest.name
    with pytest.raises(frsearch.QueryError):
        index.search("Xiaomi", sort="size")


def test_searching_from_several_threads(seed_index: frsearch.Index) -> None:
    from concurrent.futures import ThreadPoolExecutor

    queries = ["Lei Jun blacklist", "etats unis", "Zuckerberg OU Musk", "title:Singapour"] * 10
    expected = {q: names(seed_index.search(q)) for q in set(queries)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda q: (q, names(seed_index.search(q))), queries))
    assert all(found == expected[q] for q, found in results)


@pytest.mark.parametrize(
    "words, slop",
    [(["lei", "jun"], 0), (["etat", "unis"], 0), (["list", "noir", "etat"], 0),
     (["xiaom", "patron"], 9), (["lei", "xiaom"], 3), (["jun", "lei"], 0), (["smartphon", "xiaom"], 5)],
)
def test_phrase_matching_agrees_with_whoosh(seed_index: frsearch.Index, words: list, slop: int) -> None:
    from whoosh.query import Phrase as WhooshPhrase

    from frsearch.search import Phrase, Word

    engine = seed_index.engine()
    ours = engine.phrase_docs(Phrase([Word(w, w) for w in words], slop))
    theirs: set = set()
    for field in ("title", "body"):
        theirs |= set(WhooshPhrase(field, words, slop=slop + 1).docs(engine.searcher))
    assert ours == theirs


def test_all_words_first_option_ranks_by_tier_with_honest_scores() -> None:
    from dataclasses import replace

    index = frsearch.Index()
    filler = " ".join(f"mot{i}" for i in range(300))
    index.add("dense", "Chats et souris", "chat souris " * 10)
    index.add("all", "Divers", f"{filler} chat souris chien {filler}")
    engine = index.engine()
    # Without coordination nor a raised idf, the document dense in two of the words wins.
    engine.options = replace(engine.options, coordination=0.0, idf_exponent=1.0)
    assert [h.id for h in engine.search("chat souris chien")] == ["dense", "all"]
    engine.options = replace(engine.options, all_words_first=True)
    hits = engine.search("chat souris chien").hits
    assert [h.id for h in hits] == ["all", "dense"]
    # Scores stay the documents' own: only the tier (every word or not) reorders them.
    assert hits[0].score < hits[1].score


def test_bulk_posting_and_length_reads_match_whoosh(seed_index: frsearch.Index) -> None:
    engine = seed_index.engine()
    reader = engine.reader
    for field in ("title", "body"):
        assert engine.lengths(field) == [
            reader.doc_field_length(d, field) for d in range(reader.doc_count_all())
        ]
        for term in list(reader.lexicon(field))[:200]:
            m = reader.postings(field, term)
            expected = {}
            while m.is_active():
                expected[m.id()] = m.weight()
                m.next()
            assert engine.postings(field, term) == expected


def test_a_split_word_with_a_wildcard_keeps_each_part_once() -> None:
    assert parse_query("etats-uni*").describe() == "(+etat +uni*)"
    assert parse_query("États-Unis").describe() == '("etat unis" OR (etat unis))'
    assert [w.term for w in parse_query("États-Unis").words()] == ["etat", "unis"]


def test_positions_are_the_same_cached_or_read_again(seed_index: frsearch.Index) -> None:
    engine = seed_index.engine()
    docs = set(range(engine.doc_count_all))
    for term in ("xiaom", "etat", "lei"):
        engine._terms.clear()
        fresh = engine.positions("body", term, docs)
        engine.term_data(term, ("title", "body"))
        assert engine.positions("body", term, docs) == fresh
        reader = engine.reader
        m = reader.postings("body", term)
        expected = {}
        while m.is_active():
            expected[m.id()] = list(m.value_as("positions"))
            m.next()
        assert fresh == expected


def test_every_spelling_of_an_ordinal_finds_the_others() -> None:
    index = _index_of(
        "Le bureau est dans le 13e arrondissement.",
        "Une église du XIXe siècle.",
        "Le 1er mai est chômé.",
    )
    for query in ("13ème arrondissement", "13eme", "13 ème", "XIIIe", "13e"):
        assert [hit.id for hit in index.search(query)] == ["d0"], query
    for query in ("19ème siècle", "XIXème", "19e"):
        assert [hit.id for hit in index.search(query)][0] == "d1", query
    hit = index.search("1ère mai")[0]
    assert hit.id == "d2"
    assert [hit.snippet.text[s:e] for s, e in hit.snippet.spans] == ["1er mai"]


def test_an_ordinal_written_with_a_space_is_one_query_word() -> None:
    assert parse_query("13 ème étage").describe() == "(13 etag)"
    assert parse_query("le 1 er mai").describe() == "(1 mai)"
    assert parse_query("1 erreur").describe() == "(1 erreur)"


# The engine's bulk helpers against the plain loops they replace.

def _plain_in_order(positions: list[list[int]], reach: int) -> bool:
    ends = set(positions[0])
    for following in positions[1:]:
        ends = {q for q in following if any(0 < q - p <= reach for p in ends)}
        if not ends:
            return False
    return True


def test_in_order_agrees_with_the_plain_pairwise_check() -> None:
    import random

    from frsearch.search import _in_order

    rng = random.Random(7)
    for _ in range(3000):
        span = rng.randint(1, 200)
        positions = [
            sorted(rng.sample(range(span), rng.randint(1, min(span, 60))))
            for _ in range(rng.randint(1, 4))
        ]
        reach = rng.choice([1, 1, 2, 3, 5, 50])
        assert _in_order(positions, reach) == _plain_in_order(positions, reach)


def test_best_orders_by_score_then_docnum_like_a_full_sort() -> None:
    import random

    from frsearch.search import _best

    rng = random.Random(11)
    for _ in range(2000):
        scores = {rng.randint(0, 500): float(rng.randint(0, 15)) for _ in range(rng.randint(0, 200))}
        first = set(rng.sample(sorted(scores), min(len(scores), 3))) if rng.random() < 0.3 else set()
        k = rng.randint(1, 40)
        expected = sorted(scores.items(), key=lambda kv: (kv[0] not in first, -kv[1], kv[0]))[:k]
        assert _best(scores, k, first) == expected


def test_add_into_sums_and_keeps_the_order_of_new_documents() -> None:
    from frsearch.search import _add_into

    total = {5: 1.0, 2: 0.5}
    _add_into(total, {9: 2.0, 2: 0.25, 1: 3.0})
    assert list(total.items()) == [(5, 1.0), (2, 0.75), (9, 2.0), (1, 3.0)]


@pytest.fixture
def rare_and_common() -> frsearch.Index:
    """``chat`` in eleven documents, ``ornithorynque`` in one (with no ``chat``)."""
    index = frsearch.Index()
    for i in range(10):
        index.add(f"chat{i}", "Divers", f"le chat numéro {i} dort")
    index.add("chat-seul", "Divers", "un chat")
    index.add("rare", "Divers", "un ornithorynque")
    return index


def test_idf_coordination_counts_each_word_by_its_idf(rare_and_common: frsearch.Index) -> None:
    from dataclasses import replace

    engine = rare_and_common.engine()
    query = "chat ornithorynque"
    engine.options = replace(engine.options, coordination=0.0)
    plain = {h.id: h.score for h in engine.search(query, limit=20)}
    rare_idf, common_idf = engine.idf(1), engine.idf(11)
    assert rare_idf > common_idf
    engine.options = replace(engine.options, coordination=0.6, coordination_mode="idf")
    scores = {h.id: h.score for h in engine.search(query, limit=20)}
    total = rare_idf + common_idf
    # Missing the common word costs little; missing the rare one costs a lot.
    assert scores["rare"] == pytest.approx(plain["rare"] * (rare_idf / total) ** 0.6)
    assert scores["chat-seul"] == pytest.approx(plain["chat-seul"] * (common_idf / total) ** 0.6)
    engine.options = replace(engine.options, coordination_mode="count")
    counted = {h.id: h.score for h in engine.search(query, limit=20)}
    assert counted["rare"] == pytest.approx(plain["rare"] * 0.5**0.6)
    assert counted["chat-seul"] == pytest.approx(plain["chat-seul"] * 0.5**0.6)


def test_idf_exponent_raises_bm25_idf_to_a_power(rare_and_common: frsearch.Index) -> None:
    import math
    from dataclasses import replace

    engine = rare_and_common.engine()
    n = engine.doc_count
    bm25_idf = math.log(1.0 + (n - 11 + 0.5) / (11 + 0.5))
    engine.options = replace(engine.options, idf_exponent=1.0)
    assert engine.idf(11) == pytest.approx(bm25_idf)
    one = engine.search("chat").hits[0]
    engine.options = replace(engine.options, idf_exponent=1.5)
    assert engine.idf(11) == pytest.approx(bm25_idf**1.5)
    raised = engine.search("chat").hits[0]
    assert raised.id == one.id
    assert raised.score == pytest.approx(one.score * bm25_idf**0.5)


def test_snippets_are_the_same_when_long_texts_are_searched_by_counted_spans(
    seed_index: frsearch.Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    import frsearch.search

    queries = ["etats unis", "Lei Jun blacklist", "Xiaomi chine", "données personnelles facebook", "13e"]
    runs = []
    for threshold in (10**9, 0):
        monkeypatch.setattr(frsearch.search, "COUNTED_SPANS_CHARS", threshold)
        seed_index.engine()._terms.clear()
        runs.append([
            [(h.id, h.snippet, h.title_spans) for h in seed_index.search(q)] for q in queries
        ])
    assert runs[0] == runs[1]
    assert any(hit[1].spans for hits in runs[0] for hit in hits)


def test_a_snippet_fragment_keeps_the_matches_it_was_chosen_for() -> None:
    # "Lei Jun" ends a few characters before the fragment's edge: it is shown, highlighted.
    body = ("Une phrase de remplissage sans rien. " * 8) + "Un award à l’origine du blacklisting de " \
        "Xiaomi La récompense est décernée tous les cinq ans aux grands entrepreneurs chinois. " \
        "Aux côtés de Lei Jun, on retrouve donc Ding Lei. " + ("Encore du texte sans intérêt. " * 8)
    words = {"blacklisting": "blacklist", "lei": "Lei", "jun": "Jun"}
    snippet = make_snippet(body, {"blacklisting", "lei", "jun"}, words=words)
    highlighted = [snippet.text[s:e] for s, e in snippet.spans]
    assert "blacklisting" in highlighted and "Lei Jun" in highlighted


def test_related_forms_count_as_their_word_when_fragments_are_chosen() -> None:
    body = "Le mot blacklist ici. " + "Rien. " * 60 + "Et blacklisting là. " + "Rien. " * 60 + "Lei Jun enfin."
    by_term = make_snippet(body, {"blacklist", "blacklisting", "lei", "jun"}, fragments=2)
    by_word = make_snippet(
        body, {"blacklist", "blacklisting", "lei", "jun"}, fragments=2,
        words={"blacklist": "blacklist", "blacklisting": "blacklist", "lei": "Lei", "jun": "Jun"},
    )
    assert "Lei Jun" not in [by_term.text[s:e] for s, e in by_term.spans]
    assert "Lei Jun" in [by_word.text[s:e] for s, e in by_word.spans]


def test_three_query_words_side_by_side_and_related_forms_earn_the_proximity_bonus() -> None:
    index = _index_of(
        "La prime annuelle exceptionnelle est versée en mars.",
        "La prime annuelle est versée en mars, et la part annuelle exceptionnelle aussi.",
        "Le salarié démission écrite en main propre.",
        "Le salarié peut démissionner.",
        "Rien de tout cela ici.",
    )
    engine = index.engine()

    def scores(query: str, **options: object) -> dict[str, float]:
        engine.options = replace(frsearch.SearchOptions(), **options)
        engine._scores.clear()
        return {hit.id: hit.score for hit in engine.search(query)}

    # Three words in a row: only d0 has them, both documents have both pairs.
    without = scores("prime annuelle exceptionnelle", proximity_triple_weight=0.0)
    tripled = scores("prime annuelle exceptionnelle", proximity_triple_weight=0.3)
    assert tripled["d0"] > without["d0"] and tripled["d1"] == pytest.approx(without["d1"])
    # "démission" stands for "démissionner" (a related form) in the proximity bonus too.
    plain = scores("salarié démissionner", proximity_expansions=False)
    related = scores("salarié démissionner", proximity_expansions=True)
    assert related["d2"] > plain["d2"]


def _feedback_index() -> frsearch.Index:
    """Five articles on maternity leave, five more on the leave alone, two that mention
    the leave once (one about pregnancy, written longer), and fillers."""
    topic = "Le congé de maternité protège la grossesse, la naissance et l'enfant. Congé maternité."
    docs = [("topic", topic)] * 5
    docs += [("leave", f"Le congé de maternité suit la disposition {w} de l'accord signé dans la "
                       "branche professionnelle du commerce de détail.") for w in "abcde"]
    docs.append(("near", "Un congé pendant la grossesse, avant la naissance de l'enfant, se prend "
                         "selon les règles du code et de la convention collective applicable."))
    docs.append(("other", "Un congé se prend selon les règles du code."))
    docs += [("filler", f"Le dossier numéro {i} traite du salaire minimum.") for i in range(70)]
    index = frsearch.Index()
    index.add_documents({"id": f"{kind}{i}", "title": "", "body": body} for i, (kind, body) in enumerate(docs))
    return index


def test_feedback_orders_the_hits_past_the_first_page_by_what_the_first_ones_are_about() -> None:
    index = _feedback_index()
    engine = index.engine()
    engine.options = frsearch.SearchOptions(feedback_docs=0)
    plain = index.search("congé maternité", limit=20, snippets=False)
    engine.options = frsearch.SearchOptions()
    fed = index.search("congé maternité", limit=20, snippets=False)
    ids = [h.id for h in fed]
    # Without feedback the shorter text that only mentions the leave comes first; with it,
    # the one about pregnancy and birth, like the best hits.
    assert [h.id for h in plain][10:] == ["other11", "near10"]
    assert ids[10:] == ["near10", "other11"]
    assert {"grossess", "naissanc", "enfant"} <= set(fed.feedback)
    assert "congé" not in fed.feedback and "cong" not in fed.feedback
    assert any("feedback" in line for line in fed.explain())
    # The first page is left alone, no document is added and each hit keeps its own score.
    assert [h.id for h in fed][:10] == [h.id for h in plain][:10]
    assert fed.total == plain.total == 12
    assert {(h.id, h.score) for h in fed} == {(h.id, h.score) for h in plain}
    # Pages agree with one long list; a first page alone does not run feedback.
    second = index.search("congé maternité", limit=5, offset=10, snippets=False)
    assert [h.id for h in second] == ids[10:]
    first = index.search("congé maternité", limit=10, snippets=False)
    assert [h.id for h in first] == ids[:10] and first.feedback == []


def test_feedback_keeps_to_the_documents_the_query_matches() -> None:
    index = _feedback_index()
    # The pregnancy text matches no word of this query: feedback does not bring it in.
    fed = index.search("congé maternité -grossesse", limit=50, snippets=False)
    assert "near10" not in {h.id for h in fed}
    assert "grossess" not in fed.feedback
    assert {h.id for h in index.search('"congé de maternité"', limit=50)} == {
        f"{kind}{i}" for i, kind in enumerate(["topic"] * 5 + ["leave"] * 5)
    }


def test_query_words_in_one_short_window_rank_a_document_higher_in_any_order() -> None:
    index = _index_of(
        "maternité alpha beta gamma delta epsilon zeta eta theta iota kappa lambda congé",
        "maternité alpha beta congé gamma delta epsilon zeta eta theta iota kappa lambda",
        "rien de tout cela",
    )
    # The same words, as often, in texts as long: only the window tells them apart.
    assert [hit.id for hit in index.search("congé maternité")] == ["d1", "d0"]
    index.engine().options = frsearch.SearchOptions(window_weight=0.0)
    results = index.search("congé maternité")
    assert [hit.id for hit in results] == ["d0", "d1"] and results[0].score == results[1].score
