"""Posting arrays: each segment's postings, as the arrays queries read."""

from __future__ import annotations

from array import array
from pathlib import Path

import numpy as np
import pytest

import frsearch
from frsearch import postings
from frsearch.analysis import FrenchPositions
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
    segments = index.engine().segments
    assert len(segments.leaves) > 1
    arrays = segments.posting_arrays()
    assert all(a is not None for a in arrays)
    checked = 0
    for (leaf, _base), leaf_arrays in zip(segments.leaves, arrays):
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
    assert any(leaf.has_deletions() for leaf, _base in segments.leaves)
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
    from whoosh.query import Phrase as WhooshPhrase

    from frsearch.query import FIELDS

    index = frsearch.Index()
    index.add_documents(_sentence_corpus(600))
    index.add_documents(_sentence_corpus(50))  # a second segment, replacing some documents
    segments = index.engine().segments
    assert len(segments.leaves) > 1 and any(leaf.has_deletions() for leaf, _ in segments.leaves)
    live = segments.live()
    phrases = [["etat", "unis"], ["lei", "jun"], ["chin", "etat"], ["xiaom", "xiaom"], ["a", "b"]]
    phrases += [["etat", "unis", "chin"], ["list", "noir"]]
    big = 0
    for terms in phrases:
        one_by_one = {  # Whoosh's phrase matcher, document by document
            d for f in FIELDS for d in WhooshPhrase(f, terms, slop=slop + 1).docs(segments.searcher) if live[d]
        }
        assert set(segments.phrase_docs(terms, slop, FIELDS).tolist()) == one_by_one, terms
        within = sorted(one_by_one)[::3]
        assert segments.phrase_docs(terms, slop, FIELDS, np.array(within, dtype=np.int64)).tolist() == within, terms
        big += len(one_by_one) > 50
    assert big >= 2


def test_search_filters_and_sorts_the_matching_documents(tmp_path: Path) -> None:
    for i, doc in enumerate(_sentence_corpus(60)):
        folder = tmp_path / ("a" if i % 2 else "b")
        folder.mkdir(exist_ok=True)
        (folder / f"{doc['id']}.txt").write_text(doc["body"], encoding="utf-8")
    index = frsearch.Index()
    index.index_paths([tmp_path])
    every = {Path(h.path).name: h.score for h in index.search("chine xiaomi", limit=100, snippets=False)}
    assert len(every) > 20
    for kwargs, keep in (
        ({"glob": "s1*"}, lambda p: p.name.startswith("s1")),
        ({"under": str(tmp_path / "b")}, lambda p: p.parent.name == "b"),
    ):
        results = index.search("chine xiaomi", limit=100, snippets=False, **kwargs)
        wanted = {name for name in every if keep(next(tmp_path.glob(f"*/{name}")))}
        assert {Path(h.path).name for h in results} == wanted and results.total == len(wanted), kwargs
        assert all(h.score == every[Path(h.path).name] for h in results)
    by_path = index.search("chine xiaomi", limit=100, snippets=False, sort="path")
    assert [h.path for h in by_path] == sorted(h.path for h in by_path) and len(by_path) == len(every)
    newest = index.search("chine xiaomi", limit=100, snippets=False, sort="mtime")
    assert [h.mtime for h in newest] == sorted((h.mtime for h in newest), reverse=True)


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
