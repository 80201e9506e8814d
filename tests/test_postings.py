"""Posting arrays: the second copy of each segment's postings that queries read."""

from __future__ import annotations

from array import array
from pathlib import Path

import numpy as np
import pytest

import frsearch
import frsearch.search
from frsearch import postings
from frsearch.analysis import FrenchPositions
from frsearch.search import Engine
from tests.conftest import SEEDS


class _Reader:
    """A stand-in for a hash file reader over one entry."""

    def __init__(self, entry: bytes) -> None:
        from whoosh.filedb.structfile import BufferFile

        self.dbfile = BufferFile(entry)

    def range_for_key(self, key: bytes) -> tuple[int, int]:
        if key != postings.key("body", b"mot"):
            raise KeyError(key)
        return 0, len(self.dbfile._buf)

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    "weights",
    [[1.0, 1.0, 1.0], [1.0, 3.0, 200.0], [2.0, 70000.0, 1.0], [5e9, 1.0, 2.0], [0.5, 1.0, 2.25]],
)
def test_an_entry_gives_back_ids_weights_and_positions(weights: list[float]) -> None:
    ids = [0, 7, 4_000_000_000]
    positions = [[1, 2], [], list(range(5, 300_000, 1000))]
    fmt = FrenchPositions()
    entry = postings.pack(ids, weights, [fmt.encode(p) for p in positions])
    arrays = postings.PostingArrays(_Reader(entry), 4_000_000_001)  # type: ignore[arg-type]
    found = arrays.postings("body", b"mot")
    assert found is not None
    got_ids, got_weights = found
    assert list(got_ids) == ids
    assert (list(got_weights) if got_weights is not None else [1.0] * 3) == weights
    assert (got_weights is None) == (weights == [1.0] * 3)
    assert arrays.positions("body", b"mot", [7, 4_000_000_000, 3]) == {7: [], 4_000_000_000: positions[2]}
    assert arrays.positions("body", b"mot", ids) == dict(zip(ids, positions))
    every = arrays.position_vectors("body", b"mot")
    assert every is not None
    assert every[0].tolist() == ids
    assert [every[2][every[1][i] : every[1][i + 1]].tolist() for i in range(3)] == positions
    vectors = arrays.vectors("body", b"mot")
    assert vectors is not None and vectors[0].tolist() == ids
    assert (vectors[1].tolist() if vectors[1] is not None else [1.0] * 3) == weights
    assert arrays.postings("body", b"autre") is None
    assert arrays.positions("title", b"mot", ids) == {}


def test_an_entry_without_positions() -> None:
    entry = postings.pack([3, 4], [1.0, 1.0], None)
    arrays = postings.PostingArrays(_Reader(entry), 5)  # type: ignore[arg-type]
    assert arrays.postings("body", b"mot") == ([3, 4], None)
    assert arrays.positions("body", b"mot", [3]) == {}
    assert arrays.position_vectors("body", b"mot") is None


def _whoosh_postings(leaf, fieldname: str, term: bytes) -> tuple[dict[int, float], dict[int, list[int]]]:
    matcher = leaf.postings(fieldname, term)
    weights, positions = {}, {}
    while matcher.is_active():
        weights[matcher.id()] = matcher.weight()
        positions[matcher.id()] = list(matcher.value_as("positions"))
        matcher.next()
    return weights, positions


def test_merged_segments_with_deletions_have_arrays_equal_to_whoosh_postings() -> None:
    seed_texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.iterdir())]
    index = frsearch.Index()
    for batch in range(4):  # several commits: Whoosh merges the small segments
        index.add_documents(
            {"id": f"b{batch}-{i}", "title": text.split("\n", 1)[0], "body": text}
            for i, text in enumerate(seed_texts)
        )
    index.delete("b1-2")
    index.delete("b3-0")
    engine = index.engine()
    assert len(engine.leaves) > 1
    arrays = engine.posting_arrays()
    assert all(a is not None for a in arrays)
    checked = 0
    for (leaf, _base), leaf_arrays in zip(engine.leaves, arrays):
        for fieldname in ("title", "body"):
            for term in leaf.lexicon(fieldname):
                weights, positions = _whoosh_postings(leaf, fieldname, term)
                ids, got = leaf_arrays.postings(fieldname, term)
                # The arrays keep deleted documents; Whoosh's matchers and the engine skip them.
                live = {
                    d: w for d, w in zip(ids, got if got is not None else [1.0] * len(ids))
                    if not leaf.is_deleted(d)
                }
                assert live == weights
                assert leaf_arrays.positions(fieldname, term, list(weights)) == positions
                checked += 1
    assert checked > 1000
    assert any(leaf.has_deletions() for leaf, _base in engine.leaves)
    # Deleted documents are left out, as Whoosh's reader leaves them out.
    assert "b1-2" not in {hit.id for hit in index.search("Xiaomi", limit=100)}


def test_queries_give_the_same_hits_with_arrays_and_with_whoosh_blocks(
    seed_index: frsearch.Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = [
        "Lei Jun blacklist", "etats unis", '"etats unis"', "États-Unis", "facebok zuckerberg",
        "chine -xiaomi", "+singapour données", "xiao*", "pekin~", "gouvernement OR entreprise",
    ]
    searcher = seed_index.engine().searcher
    fast = Engine(searcher)
    assert all(a is not None for a in fast.posting_arrays())
    monkeypatch.setattr(frsearch.search, "open_arrays", lambda storage, segment: None)
    slow = Engine(searcher)
    assert slow.posting_arrays() == [None] * len(slow.leaves)
    for query in queries:
        a = fast.search(query, limit=20)
        b = slow.search(query, limit=20)
        assert [(h.id, h.score, h.matched_terms) for h in a] == [
            (h.id, h.score, h.matched_terms) for h in b
        ], query
        assert a.total == b.total
        assert [h.snippet for h in a] == [h.snippet for h in b]


def test_a_bad_entry_is_damage_not_a_wrong_answer() -> None:
    fmt = FrenchPositions()
    entry = postings.pack([1, 5], [1.0, 2.0], [fmt.encode([3]), fmt.encode([0, 9])])
    with pytest.raises(postings.DamagedArrays):  # a document number beyond the segment
        postings.PostingArrays(_Reader(entry), 5).postings("body", b"mot")  # type: ignore[arg-type]
    with pytest.raises(postings.DamagedArrays):  # a count that does not fit the entry
        postings.PostingArrays(_Reader(entry[:-1]), 10).postings("body", b"mot")  # type: ignore[arg-type]
    garbled = entry[:-16] + b"\xff\xff\xff\x00" + entry[-12:]  # the last position offset
    with pytest.raises(postings.DamagedArrays):
        postings.PostingArrays(_Reader(garbled), 10).positions("body", b"mot", [1])  # type: ignore[arg-type]
    # A middle offset past the positions: position_vectors leaves it to the slices' check.
    garbled = entry[:-20] + b"\x07\x00\x00\x00" + entry[-16:]
    found = postings.PostingArrays(_Reader(garbled), 10).position_vectors("body", b"mot")  # type: ignore[arg-type]
    assert found is not None
    _ids, offsets, positions = found
    starts = offsets[:-1].astype(np.int64)
    with pytest.raises(postings.DamagedArrays):
        postings.check_slices(starts, offsets[1:].astype(np.int64) - starts, len(positions))
    postings.check_slices(starts[:1], np.array([1]), len(positions))  # the first slice is sound


def _sentence_corpus(count: int) -> list[dict[str, str]]:
    """Documents made of seed sentences picked at random (the same every run)."""
    import random
    import re

    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.iterdir()))
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 3]
    rnd = random.Random(7)
    return [
        {
            "id": f"s{i}",
            "title": rnd.choice(sentences)[:60] if rnd.random() < 0.3 else "",
            "body": " ".join(rnd.sample(sentences, rnd.randint(1, 6))),
        }
        for i in range(count)
    ]


QUERIES = [
    "Xiaomi Chine", "Lei Jun blacklist", "les États-Unis et la Chine", "entreprise chinoise marché",
    "Facebook Zuckerberg Singapour", "gouvernement américain sanctions", "données personnelles",
    "xiaomi smartphone", "liste noire du Pentagone", "marché Chine Xiaomi Huawei téléphone",
    "la société a annoncé", "Singapour", "+xiaomi chine", "chine -xiaomi", "\"liste noire\" Xiaomi",
    "marché téléphone chine -xiaomi", "les États-Unis Chine NOT \"liste noire\"",
    "xiaomy chine marché", "facebok zukerberg singapour données", "gouvernment americain",
]


@pytest.mark.parametrize("slop", [0, 1, 3])
def test_phrases_found_with_every_position_at_once_are_those_found_document_by_document(slop: int) -> None:
    from frsearch.search import FIELDS, Phrase, Word

    index = frsearch.Index()
    index.add_documents(_sentence_corpus(600))
    index.add_documents(_sentence_corpus(50))  # a second segment, replacing some documents
    engine = index.engine()
    assert len(engine.leaves) > 1 and any(leaf.has_deletions() for leaf, _ in engine.leaves)
    phrases = [["etat", "unis"], ["lei", "jun"], ["chin", "etat"], ["xiaom", "xiaom"], ["a", "b"]]
    phrases += [["etat", "unis", "chin"], ["list", "noir"]]
    big = 0
    for terms in phrases:
        phrase = Phrase([Word(t, t, FIELDS) for t in terms], slop, FIELDS)
        one_by_one = engine.phrase_docs(phrase)
        assert set(engine.phrase_vector(phrase).tolist()) == one_by_one, terms
        within = sorted(one_by_one)[::3]
        assert engine.phrase_vector(phrase, np.array(within, dtype=np.int64)).tolist() == within, terms
        big += len(one_by_one) > 50
    assert big >= 2


VECTOR_QUERIES = QUERIES + [
    "xiaomi OR huawei", "(chine OU états-unis) ET xiaomi", "\"états unis\" ET chine", "xiaom*",
    "xiaomi NOT chine", "-chine", "title:xiaomi chine", "\"liste noire\"~2 pentagone", "lei~ jun",
    "comment la chine", "comment quel", "marché-chine", "États-Unis", "zzzz xiaomi",
    "xiaomi est blacklisté par les états unis", "etats unsi chine", "lei jun xiaomi smartphones",
    # more than 16 free words: the coordination factors from the distinct shares
    "chine xiaomi lei jun marché téléphone pentagone liste noire données facebook singapour "
    "gouvernement américain sanctions entreprise société annoncé",
]


@pytest.mark.parametrize("options", [
    {}, {"proximity_depth": 4}, {"proximity_depth": 0}, {"proximity_weight": 0.0},
    {"coordination": 0.0}, {"coordination_mode": "count", "proximity_slop": 2},
    {"related_mode": ""}, {"question_word_weight": 0.3}, {"typo_mode": "frequent"},
    {"proximity_expansions": False}, {"proximity_expansions": False, "proximity_depth": 4},
    {"proximity_triple_weight": 0.0}, {"proximity_slop": 3, "proximity_depth": 0},
    {"window_weight": 0.0}, {"window_min": 3, "window_size": 4}, {"window_weight": 0.5, "proximity_depth": 4},
    {"window_size": 20, "proximity_expansions": False, "coordination_mode": "count"},
])
def test_vectorized_evaluation_gives_the_hits_scores_and_totals_of_the_dictionary_path(
    options: dict[str, object],
) -> None:
    index = frsearch.Index()
    index.add_documents(_sentence_corpus(400))
    index.add_documents(_sentence_corpus(40))  # a second segment, replacing some documents
    index.delete("s3")
    engine = index.engine()
    assert len(engine.leaves) > 1 and any(leaf.has_deletions() for leaf, _ in engine.leaves)
    vectorized = 0
    feedback = 0
    for limit, offset in ((5, 0), (10, 3), (30, 5)):  # the last one runs feedback
        for query in VECTOR_QUERIES:
            runs = []
            for fast in (True, False):
                engine.options = frsearch.search.SearchOptions(vectorized=fast, **options)
                vectorized += engine.vectorized()
                results = engine.search(query, limit=limit, offset=offset, snippets=False)
                feedback += bool(results.feedback)
                runs.append((results.total, [(h.id, h.score, h.matched_terms) for h in results], results.feedback))
            assert runs[0] == runs[1], query
    assert vectorized == 3 * len(VECTOR_QUERIES)
    assert feedback > len(VECTOR_QUERIES)


def test_vectorized_search_filters_and_sorts_as_the_dictionary_path(tmp_path: Path) -> None:
    for i, doc in enumerate(_sentence_corpus(60)):
        folder = tmp_path / ("a" if i % 2 else "b")
        folder.mkdir(exist_ok=True)
        (folder / f"{doc['id']}.txt").write_text(doc["body"], encoding="utf-8")
    index = frsearch.Index()
    index.index_paths([tmp_path])
    engine = index.engine()
    for kwargs in ({"glob": "s1*"}, {"under": str(tmp_path / "b")}, {"sort": "path"}, {"sort": "mtime"}):
        runs = []
        for fast in (True, False):
            engine.options = frsearch.search.SearchOptions(vectorized=fast)
            results = engine.search("chine xiaomi", limit=25, snippets=False, **kwargs)
            runs.append((results.total, [(h.id, h.score) for h in results], results.feedback))
        assert runs[0] == runs[1], kwargs
        assert runs[0][1], kwargs


def test_an_engine_lets_glibc_reuse_the_memory_of_freed_arrays() -> None:
    import ctypes
    import os
    import resource

    if os.environ.get("FRSEARCH_MALLOC") == "default":
        pytest.skip("FRSEARCH_MALLOC=default leaves malloc alone")
    try:
        glibc = hasattr(ctypes.CDLL(None), "gnu_get_libc_version")
    except (OSError, TypeError):
        glibc = False
    if not glibc:
        pytest.skip("the tuning is for glibc's malloc; other C libraries are left alone")
    frsearch.Index().engine()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        arrays = [np.ones(100_000) for _ in range(6)]  # a search's arrays, freed when it ends
        del arrays
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    # Without the tuning, glibc unmaps them and each search faults its 6 x 196 pages in again
    # (about 15,000 faults here); with it, only the first one does.
    assert faults < 20 * 6 * 196 // 4
