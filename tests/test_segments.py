"""Segments: postings, lengths and positions read as arrays, against Whoosh's own readers."""

from __future__ import annotations

import pytest

import frsearch


@pytest.mark.parametrize(
    "words, slop",
    [(["lei", "jun"], 0), (["etat", "unis"], 0), (["list", "noir", "etat"], 0),
     (["xiaom", "patron"], 9), (["lei", "xiaom"], 3), (["jun", "lei"], 0), (["smartphon", "xiaom"], 5)],
)
def test_phrase_matching_agrees_with_whoosh(seed_index: frsearch.Index, words: list, slop: int) -> None:
    from whoosh.query import Phrase as WhooshPhrase

    from frsearch.query import FIELDS

    engine = seed_index.engine()
    ours = set(engine.segments.phrase_docs(words, slop, FIELDS).tolist())
    theirs: set = set()
    for field in ("title", "body"):
        theirs |= set(WhooshPhrase(field, words, slop=slop + 1).docs(engine.searcher))
    assert ours == theirs


def test_bulk_posting_and_length_reads_match_whoosh(seed_index: frsearch.Index) -> None:
    segments = seed_index.engine().segments
    reader = segments.reader
    for field in ("title", "body"):
        assert segments.lengths(field) == [
            reader.doc_field_length(d, field) for d in range(reader.doc_count_all())
        ]
        for term in list(reader.lexicon(field))[:200]:
            m = reader.postings(field, term)
            expected = {}
            while m.is_active():
                expected[m.id()] = m.weight()
                m.next()
            ids, tfs = segments.term_vectors(term.decode("utf-8"), (field,)).fields[field]
            assert dict(zip(ids.tolist(), tfs.tolist())) == expected


def test_positions_read_as_occurrences_are_whooshs(seed_index: frsearch.Index) -> None:
    import numpy as np

    segments = seed_index.engine().segments
    docs = np.arange(segments.doc_count_all, dtype=np.int64)
    for term in ("xiaom", "etat", "lei"):
        found: dict[int, list[int]] = {}
        for key in segments.occurrences("body", term, docs).tolist():
            found.setdefault(key >> 32, []).append(key & 0xFFFFFFFF)
        m = segments.reader.postings("body", term)
        expected = {}
        while m.is_active():
            expected[m.id()] = list(m.value_as("positions"))
            m.next()
        assert found == expected


def _plain_in_order(positions: list[list[int]], reach: int) -> bool:
    ends = set(positions[0])
    for following in positions[1:]:
        ends = {q for q in following if any(0 < q - p <= reach for p in ends)}
        if not ends:
            return False
    return True


def test_following_agrees_with_the_plain_pairwise_check() -> None:
    import random

    import numpy as np

    from frsearch.segments import following

    rng = random.Random(7)
    for _ in range(3000):
        span = rng.randint(1, 200)
        positions = [
            sorted(rng.sample(range(span), rng.randint(1, min(span, 60))))
            for _ in range(rng.randint(1, 4))
        ]
        reach = rng.choice([1, 1, 2, 3, 5, 50])
        docnum = rng.randint(0, 5)  # occurrences are document << 32 | position
        keys = [np.array([(docnum << 32) | p for p in found], dtype=np.int64) for found in positions]
        expected = [docnum] if _plain_in_order(positions, reach) else []
        assert following(keys, reach).tolist() == expected


def test_intersect_finds_the_values_in_both_arrays_dense_or_sparse() -> None:
    """intersect() flags a range holding many values, merges two long arrays over a wide
    range, and looks values up otherwise: each gives np.intersect1d's answer, negative values
    and huge ones (occurrence keys) included."""
    import numpy as np

    from frsearch.segments import intersect

    rng = np.random.default_rng(7)
    for _ in range(400):
        span = int(rng.choice([50, 5_000, 60_000, 1 << 40]))
        low = int(rng.choice([0, -10]))
        longest = int(rng.choice([3_000, 30_000]))
        a, b = (np.unique(rng.integers(low, span, int(rng.integers(0, longest)))) for _side in range(2))
        assert np.array_equal(intersect(a, b), np.intersect1d(a, b))


def test_terms_with_prefix_are_whooshs_over_several_segments() -> None:
    """The dictionary read from a prefix in each segment gives the terms Whoosh's readers do."""
    import random

    from frsearch.analysis import analyze
    from tests.test_pruning import build

    index, pool = build()
    segments = index.engine().segments
    assert len(segments.leaves) >= 2
    rng = random.Random(4)
    terms = sorted({t.term for sentence in pool for t in analyze(sentence) if t.term})
    prefixes = {t[: rng.randint(1, len(t))] for t in rng.sample(terms, 300)} | {"", "zzzz", "é", "xiaom", "a"}
    for prefix in sorted(prefixes):
        for field in ("title", "body", "nothing"):
            expected = [] if field == "nothing" else [
                t.decode("utf-8") for t in segments.reader.expand_prefix(field, prefix)
            ]
            assert segments.terms_with_prefix(field, prefix) == expected, (field, prefix)


def test_term_frequencies_from_the_dictionary_are_whooshs_over_several_segments() -> None:
    """Segments.frequency reads each segment's dictionary entry: the documents it counts are
    Whoosh's doc_frequency, added over the fields, in an index with two segments and
    deletions."""
    import random

    from frsearch.analysis import analyze
    from tests.test_pruning import build

    index, pool = build()
    segments = index.engine().segments
    assert len(segments.leaves) >= 2 and segments.doc_count < segments.doc_count_all
    terms = sorted({t.term for sentence in pool for t in analyze(sentence) if t.term})
    sample = random.Random(8).sample(terms, 300) + ["zzzz", "é", "", "xiaom"]
    for term in sample:
        for fields in (("title",), ("body",), ("title", "body")):
            expected = sum(segments.reader.doc_frequency(f, term) for f in fields)
            assert segments.frequency(term, fields) == expected, (term, fields)


def test_occurrences_are_the_same_whether_documents_are_flagged_or_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Occurrences of a term in many documents flag them and read the list once, in a few
    documents look each up: both give every occurrence in the documents asked for (some
    without the term, over two segments with deletions)."""
    import numpy as np

    from frsearch import segments as module
    from frsearch.analysis import analyze
    from tests.test_pruning import build

    index, pool = build()
    segments = index.engine().segments
    rng = np.random.default_rng(6)
    terms = sorted({t.term for sentence in pool[:200] for t in analyze(sentence) if t.term})
    for term in [terms[int(i)] for i in rng.choice(len(terms), 40, replace=False)]:
        for field in ("title", "body"):
            ids = segments.term_vectors(term, ("title", "body")).fields[field][0]
            for share in (0.02, 0.5, 1.0):
                docs = np.unique(np.concatenate([
                    rng.choice(ids, int(len(ids) * share)) if len(ids) else ids,
                    rng.integers(0, segments.doc_count_all, 20),
                ])).astype(np.int64)
                found = []
                for dense in (0, 1 << 30):  # looked up, then flagged
                    monkeypatch.setattr(module, "DENSE_INTERSECT", dense)
                    found.append(segments.occurrences(field, term, docs))
                assert np.array_equal(found[0], found[1]), (term, field, share)
                # (a deleted document's occurrences are still in the lists: callers ask for live ones)
                assert set(docs.tolist()) & set(ids.tolist()) <= set((found[0] >> 32).tolist()) <= set(docs.tolist())
