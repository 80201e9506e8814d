"""Posting arrays: each segment's postings, as the arrays queries read."""

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


class _Finder:
    """A stand-in for the term dictionary, over one entry of the term ``body:mot``."""

    def __init__(self, entry: bytes, count: int, first: int) -> None:
        self.found = (len(postings.MAGIC), len(entry), count, first)

    def entry(self, fieldname: str, btext: bytes) -> tuple[int, int, int, int] | None:
        return self.found if (fieldname, btext) == ("body", b"mot") else None


def _arrays(entry: bytes, ids: list[int], doc_count: int, file: bytes | None = None) -> postings.PostingArrays:
    """Posting arrays over a file holding one entry (``file``: the file's bytes, if not these)."""
    from whoosh.filedb.structfile import BufferFile

    data = postings.MAGIC + entry if file is None else file
    return postings.PostingArrays(_Finder(entry, len(ids), ids[0]), BufferFile(data), doc_count)


@pytest.mark.parametrize(
    "weights",
    [[1.0, 1.0, 1.0], [1.0, 3.0, 200.0], [2.0, 70000.0, 1.0], [5e9, 1.0, 2.0], [0.5, 1.0, 2.25]],
)
def test_an_entry_gives_back_ids_weights_and_positions(weights: list[float]) -> None:
    ids = [0, 7, 4_000_000_000]
    positions = [[1, 2], [], list(range(5, 300_000, 1000))]
    fmt = FrenchPositions()
    entry = postings.pack(ids, weights, [fmt.encode(p) for p in positions])
    arrays = _arrays(entry, ids, 4_000_000_001)
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
    # What Whoosh's matchers are given (segment merging reads every posting through them).
    assert arrays.values("body", b"mot") == (ids, weights, [fmt.encode(p) for p in positions])
    assert arrays.postings("body", b"autre") is None
    assert arrays.positions("title", b"mot", ids) == {}


def test_an_entry_without_positions() -> None:
    entry = postings.pack([3, 4], [1.0, 1.0], None)
    arrays = _arrays(entry, [3, 4], 5)
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


@pytest.mark.parametrize("count", [1, 2, 40, 300, 70_000])
def test_each_array_takes_the_narrowest_type_its_values_fit(count: int) -> None:
    fmt = FrenchPositions()
    ids = [2 * i + i % 2 for i in range(count)]  # ascending, at most 3 apart
    positions = [[i % 7, 300 + i % 11] if i % 5 else [70_000] for i in range(count)]
    weights = [float(len(p)) for p in positions]
    entry = postings.pack(ids, weights, [fmt.encode(p) for p in positions])
    arrays = _arrays(entry, ids, ids[-1] + 1)
    assert arrays.values("body", b"mot") == (ids, weights, [fmt.encode(p) for p in positions])
    # 2 bytes of codes; the ids after the first, less the first, in 1, 2 or 4 bytes each; weights
    # of 1 or 2 in 1 byte (none when all are 1); the counts are the weights, so not stored;
    # positions up to 70,000 in 4 bytes.
    npositions = sum(map(len, positions))
    weight_bytes = count if set(weights) != {1.0} else 0
    id_size = 1 if ids[-1] - ids[0] < 256 else 2 if ids[-1] - ids[0] < 65536 else 4
    assert len(entry) == 2 + id_size * (count - 1) + weight_bytes + 4 * npositions
    small = postings.pack(ids, weights, [fmt.encode([p % 200 for p in ps]) for ps in positions])
    assert len(small) == 2 + id_size * (count - 1) + weight_bytes + npositions


def test_a_bad_entry_is_damage_not_a_wrong_answer() -> None:
    fmt = FrenchPositions()
    ids = [1, 5]
    entry = postings.pack(ids, [1.0, 2.0], [fmt.encode([3]), fmt.encode([0, 9])])
    with pytest.raises(postings.DamagedArrays):  # a document number beyond the segment
        _arrays(entry, ids, 5).postings("body", b"mot")
    with pytest.raises(postings.DamagedArrays):  # an entry shorter than its arrays
        _arrays(entry[:-1], ids, 10).positions("body", b"mot", [1])
    with pytest.raises(postings.DamagedArrays):  # a file shorter than the entry
        _arrays(entry, ids, 10, postings.MAGIC + entry[:-1]).positions("body", b"mot", [1])
    garbled = entry[:3] + b"\x07" + entry[4:]  # the second weight, so positions do not add up
    with pytest.raises(postings.DamagedArrays):
        _arrays(garbled, ids, 10).positions("body", b"mot", [1])
    with pytest.raises(postings.DamagedArrays):  # an unknown type code
        _arrays(b"\x0f" + entry[1:], ids, 10).postings("body", b"mot")
    with pytest.raises(postings.DamagedArrays):  # more postings than documents
        _arrays(entry, [1, 5, 6, 7, 8, 9], 5).postings("body", b"mot")
    assert _arrays(entry, ids, 10).positions("body", b"mot", [1, 5]) == {1: [3], 5: [0, 9]}


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
