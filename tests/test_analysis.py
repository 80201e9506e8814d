"""The French analyzer: golden terms, offsets, NFD text, stopwords and stemming."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from frsearch.analysis import STOPWORDS, FrenchAnalyzer, analyze, fold, stem, term_of

GOLDEN = json.loads((Path(__file__).parent / "fixtures" / "analysis_golden.json").read_text("utf-8"))


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda c: c["text"])
def test_golden_terms(case: dict) -> None:
    assert [t.term for t in analyze(case["text"])] == case["terms"]


def test_whoosh_pipeline_gives_the_same_terms_as_analyze() -> None:
    analyzer = FrenchAnalyzer()
    for case in GOLDEN["cases"]:
        whoosh_terms = [t.text for t in analyzer(case["text"])]
        assert whoosh_terms == case["terms"], case["text"]


def test_offsets_point_at_the_original_accented_words() -> None:
    text = "Xiaomi est blacklisté par les États-Unis, d’après l’Administration."
    words = [(text[t.start : t.end], t.term) for t in analyze(text)]
    assert words == [
        ("Xiaomi", "xiaom"),
        ("blacklisté", "blacklist"),
        ("États", "etat"),
        ("Unis", "unis"),
        ("après", "apre"),
        ("Administration", "administr"),
    ]


def test_whoosh_tokens_carry_offsets_and_consecutive_positions() -> None:
    text = "Il a placé la liste noire des États-Unis"
    tokens = [
        (t.text, t.pos, text[t.startchar : t.endchar])
        for t in FrenchAnalyzer()(text, positions=True, chars=True)
    ]
    assert [t[0] for t in tokens] == ["plac", "list", "noir", "etat", "unis"]
    # Stopwords take no position, so a phrase written with or without them matches.
    positions = [t[1] for t in tokens]
    assert positions == list(range(positions[0], positions[0] + 5))
    assert [t[2] for t in tokens] == ["placé", "liste", "noire", "États", "Unis"]


def test_decomposed_text_is_analyzed_like_composed_text() -> None:
    text = "L’État et l’œuvre de l’université à Besançon, déjà blacklistée"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert [t.term for t in analyze(nfd)] == [t.term for t in analyze(text)]
    # Offsets still point into the NFD text itself.
    for t in analyze(nfd):
        assert unicodedata.normalize("NFC", nfd[t.start : t.end]).lower().replace("’", "") != ""


def test_apostrophes_of_both_kinds_strip_the_same_elisions() -> None:
    for elided in ["l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"]:
        for apostrophe in ["'", "’"]:
            for word in (elided, elided.upper(), elided.capitalize()):
                assert term_of(f"{word}{apostrophe}Ordinateur") == "ordin", (word, apostrophe)


def test_numbers_are_kept() -> None:
    assert term_of("2014") == "2014"
    assert term_of("45") == "45"
    assert term_of("7,7") == "7,7"


def test_ordinals_fold_to_their_number_and_keep_their_offsets() -> None:
    text = "Au 13 ème étage, le XIXe siècle et la 1ère fois."
    words = [(text[t.start : t.end], t.term, t.folded) for t in analyze(text)]
    assert words == [
        ("13 ème", "13", "13"),
        ("étage", "etag", "etage"),
        ("XIXe", "19", "19"),
        ("siècle", "siecl", "siecle"),
        ("1ère", "1", "1"),
        ("fois", "fois", "fois"),
    ]
    tokens = FrenchAnalyzer()(text, positions=True, chars=True)
    assert [(text[t.startchar : t.endchar], t.text) for t in tokens] == [(w, t) for w, t, _ in words]


def test_roman_numerals_are_read_only_in_capitals() -> None:
    assert term_of("XIV") == "14"
    assert term_of("xiv") == "xiv"
    assert term_of("Vie") == term_of("vie")
    assert term_of("Ive") == "ive"


def test_stopword_list_is_folded_and_complete() -> None:
    for word in ["le", "la", "les", "de", "des", "du", "et", "ou", "où", "à", "a", "qui", "que",
                 "est", "sont", "été", "avait", "aurait", "nous", "vous", "leur", "dans", "pour"]:
        assert fold(word) in STOPWORDS, word
    assert all(word == fold(word) for word in STOPWORDS)
    # Nouns that look like function words stay searchable.
    for noun in ["or", "car", "fin", "loi", "droit"]:
        assert noun not in STOPWORDS


VOCABULARY = """
    université blacklisté électrique véhicules société américain départements fédéral
    conférences connectés considérations éventuel intérêt réussi décidé créé révélé
    énergie élève élèves préféré générale immédiatement sécurité européenne
    télécommunications crédits réalité numéro année années début dès déjà là où
    fenêtre forêt côte hôpital août naïf maïs Noël égalité libéré procès succès
    allégé contrôlé employé employée employés employées salarié rémunération indemnités
""".split()


@pytest.mark.parametrize("word", VOCABULARY)
def test_accented_and_unaccented_spellings_give_one_term(word: str) -> None:
    plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    assert term_of(word) == term_of(plain) == term_of(word.upper())


def test_stem_leaves_numbers_alone() -> None:
    assert stem("2018") == "2018"
    assert stem("") == ""


def test_fused_indexing_path_gives_the_analyzer_postings() -> None:
    from whoosh.formats import Positions

    from frsearch.analysis import FrenchPositions, term_counts, term_positions

    seeds = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
    texts = [p.read_text("utf-8") for p in seeds] + [c["text"] for c in GOLDEN["cases"]]
    texts.append(unicodedata.normalize("NFD", texts[0]))
    analyzer = FrenchAnalyzer()
    for text in texts:
        # The same terms, frequencies, weights and positions; FrenchPositions encodes
        # positions as 32-bit integers instead of a pickled list of deltas.
        slow = sorted(
            (t, f, w, Positions().decode_positions(v)) for t, f, w, v in Positions().word_values(text, analyzer)
        )
        fast = sorted(
            (t, f, w, FrenchPositions().decode_positions(v))
            for t, f, w, v in FrenchPositions().word_values(text, analyzer)
        )
        assert fast == slow
        items = FrenchPositions().index_items(text)
        assert sorted((t.decode(), f, w, v) for t, f, w, v in items) == sorted(
            FrenchPositions().word_values(text, analyzer)
        )
        expected: dict[str, list[int]] = {}
        for t in analyze(text):
            expected.setdefault(t.term, []).append(t.position)
        assert term_positions(text) == expected
        assert term_counts(text) == {t: len(p) for t, p in expected.items()}


def test_term_spans_match_analyze() -> None:
    from frsearch.analysis import term_spans

    for case in GOLDEN["cases"]:
        text = case["text"]
        assert term_spans(text) == [(t.start, t.end, t.term) for t in analyze(text)]


def test_matched_spans_are_the_term_spans_of_the_terms_asked_for() -> None:
    from frsearch.analysis import matched_spans, term_spans

    for case in GOLDEN["cases"]:
        spans = term_spans(case["text"])
        for some in ({t for _s, _e, t in spans[::3]}, set(), {"absent"}):
            assert matched_spans(case["text"], some) == [s for s in spans if s[2] in some]


def test_counted_spans_are_the_matched_spans_or_none() -> None:
    from frsearch.analysis import counted_spans, matched_spans, term_positions

    seeds = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
    texts = [p.read_text("utf-8") for p in seeds] + [c["text"] for c in GOLDEN["cases"]]
    texts += ["Les chevaux du cheval.", "Le 13 ème et le XIIIe, 1.000 chevaux", "l'État, L’ÉTAT et 'État"]
    texts.append(unicodedata.normalize("NFD", texts[0]))
    answered = 0
    for text in texts:
        positions = term_positions(text)
        terms = sorted(positions)
        for some in (terms[::2], terms[1::3], terms[:1], ["absent"], ["cheval"], ["etat", "13"]):
            counts = {t: len(positions.get(t, ())) for t in some}
            spans = counted_spans(text, counts)
            if spans is not None:
                answered += 1
                assert spans == matched_spans(text, set(some)), (text[:40], some)
    assert answered > 30
    # Words that do not start with their term, and numbers, are left to the full reading.
    assert counted_spans("Les chevaux du cheval.", {"cheval": 2}) is None
    assert counted_spans("Le XIIIe siècle", {"13": 1}) is None
    # A word after a number is read where it is its own word, not where it is an ordinal's suffix.
    text = "Sous 30 jours ; le 2 ème jour."
    assert counted_spans(text, {"jour": 2}) == matched_spans(text, {"jour"}) != []
    assert counted_spans("Le 1 er mai", {"er": 0}) is None
