"""Ranking: BM25, coordination, the proximity and window bonuses, top-k, feedback."""

from __future__ import annotations

from dataclasses import replace

import pytest

import frsearch
from tests.conftest import names, index_of as _index_of


def test_documents_with_all_words_rank_first(seed_index: frsearch.Index) -> None:
    results = seed_index.search("Facebook Zuckerberg Xiaomi")
    assert names(results)[0] == "000_60564f4e513c8b83.txt"  # the only one with all three
    # No seed has all of these: the two that have two of the three words come first.
    results = seed_index.search("Facebook Zuckerberg Singapour")
    assert set(names(results)[:2]) == {"000_60564f4e513c8b83.txt", "004_772669a71db343fa.txt"}


def test_top_orders_by_score_then_docnum_like_a_full_sort() -> None:
    import random

    import numpy as np

    from frsearch.ranking import top

    rng = random.Random(11)
    for _ in range(2000):
        scores = {rng.randint(0, 500): float(rng.randint(0, 15)) for _ in range(rng.randint(0, 200))}
        k = rng.randint(1, 40)
        expected = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        dense = np.zeros(501)
        docs = np.array(sorted(scores), dtype=np.int64)
        dense[docs] = [scores[d] for d in docs.tolist()]
        best, values = top(dense, docs, k)
        assert list(zip(best.tolist(), values.tolist())) == expected


@pytest.fixture
def rare_and_common() -> frsearch.Index:
    """``chat`` in eleven documents, ``ornithorynque`` in one (with no ``chat``)."""
    index = frsearch.Index()
    for i in range(10):
        index.add(f"chat{i}", "Divers", f"le chat numéro {i} dort")
    index.add("chat-seul", "Divers", "un chat")
    index.add("rare", "Divers", "un ornithorynque")
    return index


def test_a_word_merged_from_lists_scores_as_in_arrays_over_every_document() -> None:
    """A rare word's terms are merged as lists, a common one's added in arrays over every
    document (its rarer terms merged as lists when no score is below 0): the same documents
    and scores to the last bit, negative scores included."""
    import numpy as np

    from frsearch.ranking import Scorer, _sparse_word

    class Segments:
        doc_count_all = 1000

    dense = Scorer.__new__(Scorer)
    dense.segments = Segments()
    rng = np.random.default_rng(5)
    for _ in range(300):
        terms = []
        for _term in range(int(rng.integers(1, 4))):
            parts = []
            for _field in range(int(rng.integers(1, 3))):
                ids = np.sort(rng.choice(1000, int(rng.integers(1, 200)), replace=False)).astype(np.int64)
                parts.append((ids, rng.normal(1.0, 2.0, len(ids))))
            terms.append(sorted(parts, key=lambda p: -len(p[0])))
        expected_ids, expected = dense._dense_word(terms, negative=True)
        ids, values = _sparse_word(terms)
        assert np.array_equal(ids, expected_ids)
        assert values.tobytes() == expected.tobytes()
        # Scores of 0 or more: the rarer terms are merged as lists, their best taken by document.
        positive = [[(ids, np.abs(part)) for ids, part in parts] for parts in terms]
        expected_ids, expected = dense._dense_word(positive, negative=True)
        for ids, values in (dense._dense_word(positive, negative=False), _sparse_word(positive)):
            assert np.array_equal(ids, expected_ids)
            assert values.tobytes() == expected.tobytes()


def test_bm25_from_stored_frequencies_equals_bm25_in_float64() -> None:
    """Frequencies stay in their stored type (one byte, mostly) and BM25 is computed in place:
    the scores are those of ``factor * tf / (tf + saturation)`` in float64, to the last bit."""
    import numpy as np

    from frsearch.ranking import _bm25

    rng = np.random.default_rng(3)
    for dtype in (np.uint8, np.uint16, np.uint32, np.float64):
        tfs = rng.integers(1, 200, 2_000).astype(dtype)
        saturations = rng.random(2_000) * 4
        factor = float(rng.normal(0.0, 3.0))
        as_floats = tfs.astype(np.float64)
        expected = factor * as_floats / (as_floats + saturations)
        assert _bm25(factor, tfs, saturations.copy()).tobytes() == expected.tobytes()


def test_lists_looked_up_at_many_documents_by_map_or_search_give_the_same_values() -> None:
    """lists_at() maps the documents to places for the shorter lists and searches the longer
    ones: either way each list's values and presence are values_and_presence()'s, bit for bit
    (negative values, lists outside the documents' range and empty ones included)."""
    import numpy as np

    from frsearch.ranking import MAPPED_MIN_DOCS, lists_at, values_and_presence

    rng = np.random.default_rng(11)
    for _ in range(150):
        n = int(rng.choice([MAPPED_MIN_DOCS * 2, 60_000, 400_000]))
        docs = np.unique(rng.integers(int(rng.integers(0, n // 2)), n, int(rng.choice([10, MAPPED_MIN_DOCS + 1, 20_000]))))
        lists = []
        for _list in range(int(rng.integers(1, 5))):
            start = int(rng.choice([0, n // 3]))
            ids = np.unique(rng.integers(start, start + int(rng.choice([n // 4, n])), int(rng.choice([0, 100, 5_000, 80_000]))))
            lists.append((ids, rng.normal(0.0, 2.0, len(ids))))
        got = lists_at(lists, docs)
        for (ids, values), (found, has) in zip(lists, got):
            expected, expected_has = values_and_presence(ids, values, docs)
            assert found.tobytes() == expected.tobytes() and np.array_equal(has, expected_has)


def test_idf_coordination_counts_each_word_by_its_idf(rare_and_common: frsearch.Index) -> None:
    from dataclasses import replace

    engine = rare_and_common.engine()
    query = "chat ornithorynque"
    engine.options = replace(engine.options, coordination=0.0)
    plain = {h.id: h.score for h in engine.search(query, limit=20)}
    rare_idf, common_idf = engine.scorer.idf(1), engine.scorer.idf(11)
    assert rare_idf > common_idf
    engine.options = replace(engine.options, coordination=0.6)
    scores = {h.id: h.score for h in engine.search(query, limit=20)}
    total = rare_idf + common_idf
    # Missing the common word costs little; missing the rare one costs a lot.
    assert scores["rare"] == pytest.approx(plain["rare"] * (rare_idf / total) ** 0.6)
    assert scores["chat-seul"] == pytest.approx(plain["chat-seul"] * (common_idf / total) ** 0.6)


def test_idf_exponent_raises_bm25_idf_to_a_power(rare_and_common: frsearch.Index) -> None:
    import math
    from dataclasses import replace

    engine = rare_and_common.engine()
    n = engine.segments.doc_count
    bm25_idf = math.log(1.0 + (n - 11 + 0.5) / (11 + 0.5))
    engine.options = replace(engine.options, idf_exponent=1.0)
    assert engine.scorer.idf(11) == pytest.approx(bm25_idf)
    one = engine.search("chat").hits[0]
    engine.options = replace(engine.options, idf_exponent=1.5)
    assert engine.scorer.idf(11) == pytest.approx(bm25_idf**1.5)
    raised = engine.search("chat").hits[0]
    assert raised.id == one.id
    assert raised.score == pytest.approx(one.score * bm25_idf**0.5)


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
        return {hit.id: hit.score for hit in engine.search(query)}

    # Three words in a row: only d0 has them, both documents have both pairs.
    without = scores("prime annuelle exceptionnelle", proximity_triple_weight=0.0)
    tripled = scores("prime annuelle exceptionnelle", proximity_triple_weight=0.3)
    assert tripled["d0"] > without["d0"] and tripled["d1"] == pytest.approx(without["d1"])
    # "démission" stands for "démissionner" (a related form) in the proximity bonus too.
    # d2 has "salarié démission" side by side, not "salarié démissionner": it earns the bonus.
    plain = scores("salarié démissionner", proximity_weight=0.0)
    related = scores("salarié démissionner")
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


def test_occurrences_within_windows_are_found_by_one_sorted_search() -> None:
    """occurs_within() answers as counting the keys below each end and each start does."""
    import numpy as np

    from frsearch.proximity import occurs_within

    rng = np.random.default_rng(5)
    for _ in range(300):
        keys = np.unique(rng.integers(0, int(rng.choice([20, 500, 1 << 40])), int(rng.integers(1, 300))))
        starts = np.sort(rng.integers(-5, int(keys[-1]) + 30, int(rng.integers(0, 400))))
        ends = starts + int(rng.integers(1, 40))
        expected = np.searchsorted(keys, ends) > np.searchsorted(keys, starts)
        assert np.array_equal(occurs_within(keys, starts, ends), expected)
