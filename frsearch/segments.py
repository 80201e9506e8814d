"""One committed state of an index, read as arrays: postings, positions, lengths, columns.

A Whoosh index is a list of segments; each segment's postings are read from its posting
arrays (frsearch.postings) as numpy arrays, in place in the memory-mapped file. Here they
are joined into one numbering of the documents (a segment's base plus its own number),
deleted documents left out. Document numbers are kept in ascending arrays; the set
operations on them (intersect, union) are below.

Nothing here depends on the ranking options: the arrays and the caches are shared by every
search on the same committed state.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable, Sequence

import numpy as np
from whoosh.util.numeric import byte_to_length, length_to_byte

from frsearch.postings import check_slices, open_arrays
from frsearch.query import FIELDS

__all__ = ["NO_DOCS", "NO_SCORES", "BoundedCache", "cache_bound", "Segments", "TermVectors", "followed_in_fields", "following", "intersect", "locate", "merge_sorted", "run_starts", "union"]

#: Postings (with their encoded positions) kept between searches: this many, or
#: CACHED_POSTINGS_PER_DOC times the documents of a larger index, so that a collection
#: four times larger keeps the same share of its common words' lists (about 16 bytes a
#: posting in each cache).
MAX_CACHED_POSTINGS = 3_000_000
CACHED_POSTINGS_PER_DOC = 32
#: Terms whose document frequency is kept between searches.
MAX_CACHED_TERMS = 262_144
#: intersect() flags the values of the range when the shorter array holds more than
#: 1/DENSE_INTERSECT of it, and looks each value up in the other array otherwise (the two
#: cost the same near 1/100).
DENSE_INTERSECT = 64
#: ... and merges two arrays of at least this many values each, within 8 times each other's length.
MERGED_INTERSECT = 4096


def cache_bound(doc_count: int) -> int:
    """The postings a cache of an index of ``doc_count`` documents keeps (see MAX_CACHED_POSTINGS)."""
    return max(MAX_CACHED_POSTINGS, CACHED_POSTINGS_PER_DOC * doc_count)

NO_DOCS = np.zeros(0, dtype=np.int64)
NO_SCORES = np.zeros(0)


class BoundedCache:
    """A dict emptied whenever what it holds would grow past ``bound`` (each value counts the
    ``size`` it is put with: postings for a term, one for a word)."""

    __slots__ = ("_items", "_held", "_bound")

    def __init__(self, bound: int) -> None:
        self._items: dict[Any, Any] = {}
        self._held = 0
        self._bound = bound

    def get(self, key: Any) -> Any:
        return self._items.get(key)

    def put(self, key: Any, value: Any, size: int = 1) -> None:
        if self._held + size > self._bound:
            self.clear()
        self._items[key] = value
        self._held += size

    def clear(self) -> None:
        self._items.clear()
        self._held = 0


class TermVectors:
    """A term's postings as arrays: field -> (document numbers ascending, frequencies in
    their stored integer or float type)."""

    __slots__ = ("fields", "df", "size")

    def __init__(self, fields: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        self.fields = fields
        self.size = sum(len(ids) for ids, _tfs in fields.values())
        found = [ids for ids, _tfs in fields.values() if len(ids)]
        if len(found) < 2:
            self.df = len(found[0]) if found else 0
        elif len(found) == 2:  # documents counted once, whichever fields have the term
            self.df = len(found[0]) + len(found[1]) - len(intersect(found[0], found[1]))
        else:
            self.df = len(union(found))


class Segments:
    """The segments of one committed state of an index (a Whoosh searcher), read as arrays."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.leaves = list(self.reader.leaf_readers())
        self.doc_count = self.reader.doc_count()
        self.doc_count_all = self.reader.doc_count_all()
        #: Average length (in terms) of each field.
        self.average: dict[str, float] = {}
        for name in FIELDS:
            total = self.reader.field_length(name)
            self.average[name] = (total / self.doc_count) if self.doc_count else 1.0
        self.lock = threading.RLock()
        self._codes: dict[str, np.ndarray] = {}
        self._columns: dict[str, list[Any]] = {}
        self._vectors = BoundedCache(cache_bound(self.doc_count_all))  # (term, fields) -> TermVectors
        self._phrases = BoundedCache(cache_bound(self.doc_count_all) // 4)  # (terms, slop, fields) -> documents
        self._frequencies = BoundedCache(MAX_CACHED_TERMS)  # (term, fields) -> documents with it
        self._arrays: list[Any] | None = None
        self._live: np.ndarray | None = None
        _reuse_freed_memory()

    # -- per-document values ----------------------------------------------------

    def length_codes(self, fieldname: str) -> np.ndarray:
        """Whoosh's one-byte length code of ``fieldname`` for every document number."""
        cached = self._codes.get(fieldname)
        if cached is None:
            parts = []
            for leaf, _base in self.leaves:
                count = leaf.doc_count_all()
                column = _length_column(leaf, fieldname)
                raw = _column_bytes(column, count)
                if raw is None and column is None:
                    raw = bytes(
                        length_to_byte(leaf.doc_field_length(d, fieldname) or 0) for d in range(count)
                    )
                elif raw is None:
                    raw = bytes(b or 0 for b in column)
                parts.append(raw)
            cached = self._codes[fieldname] = np.frombuffer(b"".join(parts), dtype=np.uint8)
        return cached

    def lengths(self, fieldname: str) -> list[int]:
        """Length (in terms) of ``fieldname`` for every document number."""
        table = [byte_to_length(i) for i in range(256)]
        return [table[code] for code in self.length_codes(fieldname).tolist()]

    def column(self, name: str) -> list[Any]:
        """A sortable field's value for every document number ("" where it has none)."""
        with self.lock:
            cached = self._columns.get(name)
            if cached is None:
                cached = []
                for leaf, _base in self.leaves:
                    if leaf.has_column(name):
                        cached.extend(leaf.column_reader(name))
                    else:
                        cached.extend([""] * leaf.doc_count_all())
                self._columns[name] = cached
            return cached

    def live(self) -> np.ndarray:
        """Per document number, whether the document is not deleted."""
        if self._live is None:
            live = np.ones(self.doc_count_all, dtype=bool)
            for leaf, base in self.leaves:
                if leaf.has_deletions():
                    deleted = np.fromiter(leaf.deleted_docs_set, dtype=np.int64)
                    live[deleted + base] = False
            self._live = live
        return self._live

    def stored(self, docnum: int) -> dict[str, Any]:
        """The stored fields of a document."""
        return self.searcher.stored_fields(docnum)

    # -- terms ------------------------------------------------------------------

    def has_term(self, term: str, fields: Sequence[str] = FIELDS) -> bool:
        return self.frequency(term, fields) > 0

    def frequency(self, term: str, fields: Sequence[str]) -> int:
        """Documents with the term, per the term dictionary (Whoosh's doc_frequency), added
        over ``fields`` and segments (kept for the next lookups: a query's words are looked
        up by expansion, then spelling)."""
        key = (term, tuple(fields))
        found = self._frequencies.get(key)
        if found is None:
            btext = term.encode("utf-8")
            found = sum(arrays.doc_frequency(f, btext) for arrays in self.posting_arrays() for f in fields)
            with self.lock:
                self._frequencies.put(key, found)
        return found

    def terms_with_prefix(self, fieldname: str, prefix: str) -> list[str]:
        """The indexed terms of a field that begin with ``prefix``, in order."""
        if fieldname not in self.reader.schema:
            return []
        btext = prefix.encode("utf-8")
        found: set[bytes] = set()
        for leaf, _base in self.leaves:
            with_prefix = getattr(getattr(leaf, "_terms", None), "with_prefix", None)
            found.update(with_prefix(fieldname, btext) if with_prefix else leaf.expand_prefix(fieldname, prefix))
        return [t.decode("utf-8") for t in sorted(found)]  # UTF-8's byte order is the letters' order

    def terms_within(self, fieldname: str, term: str, distance: int, prefix: int) -> list[str]:
        """Indexed terms at most ``distance`` edits from ``term``, sharing its first ``prefix`` letters."""
        return list(self.reader.terms_within(fieldname, term, distance, prefix=prefix))

    # -- postings -----------------------------------------------------------------

    def posting_arrays(self) -> list[Any]:
        """Each segment's posting arrays (frsearch.postings; a segment without them is damage)."""
        if self._arrays is None:
            with self.lock:
                if self._arrays is None:
                    self._arrays = [open_arrays(leaf) for leaf, _base in self.leaves]
        return self._arrays

    def close(self) -> None:
        """Close the files of the posting arrays (the searcher is its owner's to close)."""
        with self.lock:
            arrays, self._arrays = self._arrays, None
            for item in arrays or ():
                item.close()

    def term_vectors(self, term: str, fields: Sequence[str]) -> TermVectors:
        """A term's postings in each of ``fields``, as arrays (kept for the next queries)."""
        key = (term, ",".join(fields))
        found = self._vectors.get(key)
        if found is None:
            found = TermVectors({f: self._field_vectors(f, term) for f in fields})
            with self.lock:  # bounded by postings held, not by terms: common terms are large
                self._vectors.put(key, found, found.size)
        return found

    def df(self, term: str, fields: Sequence[str]) -> int:
        """How many documents have ``term`` in any of ``fields`` (deleted ones left out)."""
        return self.term_vectors(term, fields).df

    def term_docs(self, term: str, fields: Sequence[str], first: int | None = None) -> np.ndarray:
        """The documents (ascending) that have ``term`` in any of ``fields``; with ``first``,
        only the first so many of them (read without joining whole lists)."""
        return union([ids[:first] for ids, _tfs in self.term_vectors(term, fields).fields.values()])[:first]

    def _field_vectors(self, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers ascending, frequencies as stored) of a term in one field, deleted
        ones left out."""
        btext = term.encode("utf-8")
        id_parts, tf_parts = [], []
        for (leaf, base), segment in zip(self.leaves, self.posting_arrays()):
            found = segment.vectors(fieldname, btext)
            if found is None:
                continue
            local, weights = found
            ids = local + base if base else local  # int64, read-only when shared with the segment's cache
            # Frequencies in their stored type (mostly one byte; BM25 computes in float64 from them).
            tfs = np.ones(len(ids), dtype=np.uint8) if weights is None else weights.copy()
            if leaf.has_deletions():
                keep = self.live()[ids]
                ids, tfs = ids[keep], tfs[keep]
            id_parts.append(ids)
            tf_parts.append(tfs)
        if len(id_parts) == 1:
            return id_parts[0], tf_parts[0]
        if not id_parts:
            return NO_DOCS, NO_SCORES
        return np.concatenate(id_parts), np.concatenate(tf_parts)

    # -- positions ----------------------------------------------------------------

    def occurrences(self, fieldname: str, term: str, docs: np.ndarray) -> np.ndarray:
        """Every occurrence of a term in a field of ``docs`` (ascending), as document << 32 | position."""
        btext = term.encode("utf-8")
        parts = []
        for (leaf, base), arrays in zip(self.leaves, self.posting_arrays()):
            count = leaf.doc_count_all()
            lo, hi = np.searchsorted(docs, (base, base + count))
            if lo == hi:
                continue
            found = arrays.position_vectors(fieldname, btext)
            if found is None:
                continue
            ids, offsets, positions = found
            local = docs[lo:hi] - base
            if len(local) * DENSE_INTERSECT > count:
                # Many documents (a phrase's candidates): flagged, and the list read once
                # (60,000 documents of a list of 62,000: 0.2 against 1.2 ms).
                flags = np.zeros(count, dtype=bool)
                flags[local] = True
                at = np.flatnonzero(flags[ids])
                local = ids[at]
            else:
                at, has = locate(ids, local)
                at, local = at[has], local[has]
            starts = offsets[at].astype(np.int64)
            lengths = offsets[at + 1].astype(np.int64) - starts
            check_slices(starts, lengths, len(positions))
            if len(at) == len(ids):
                chosen = positions
            else:
                # Each posting's slice of the positions, gathered in one indexing.
                ends = np.cumsum(lengths)
                chosen = positions[np.repeat(starts - (ends - lengths), lengths) + np.arange(ends[-1] if len(ends) else 0)]
            docnums = np.repeat(local + base, lengths)
            parts.append((docnums << 32) | chosen.astype(np.int64))
        if not parts:
            return NO_DOCS
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def positions(self, fieldname: str, term: str, docnum: int) -> list[int]:
        """The positions of a term in one field of one document (a hit's, for its snippet)."""
        for (leaf, base), arrays in zip(self.leaves, self.posting_arrays()):
            if base <= docnum < base + leaf.doc_count_all():
                found = arrays.positions(fieldname, term.encode("utf-8"), [docnum - base])
                return list(found.get(docnum - base, ()))
        return []

    def phrase_docs(
        self, terms: list[str], slop: int, fields: Sequence[str], within: np.ndarray | None = None,
    ) -> np.ndarray:
        """The documents (ascending) where ``terms`` occur in order in one of ``fields``, with at
        most ``slop`` other words between each; ``within`` limits the search to those. A
        phrase's documents over the whole index are kept for the next queries (a phrase of
        common words reads the positions of every document that has them all)."""
        key = (tuple(terms), slop, tuple(fields))
        if within is None:
            found = self._phrases.get(key)
            if found is not None:
                return found

        def occurrences_in(fieldname: str) -> list[np.ndarray] | None:
            candidates = within
            for term in terms:
                ids = self.term_vectors(term, fields).fields[fieldname][0]
                candidates = ids if candidates is None else intersect(candidates, ids)
                if not len(candidates):
                    return None
            if candidates is None:
                return None
            return [self.occurrences(fieldname, term, candidates) for term in terms]

        docs = followed_in_fields(fields, slop, occurrences_in)
        if within is None:
            if docs is not NO_DOCS:
                docs.flags.writeable = False  # shared by the next queries
            with self.lock:
                self._phrases.put(key, docs, len(docs) + 1)
        return docs


# ---------------------------------------------------------------------------
# Ascending arrays of document numbers (or of occurrences)


def locate(ids: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``docs`` (ascending), its index in ``ids`` (ascending, not empty) where it
    is there, and whether it is."""
    at = np.minimum(np.searchsorted(ids, docs), len(ids) - 1)
    return at, ids[at] == docs


def intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values in both ascending arrays of distinct values."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return a
    size = max(int(a[-1]), int(b[-1])) + 1
    if len(a) * DENSE_INTERSECT > size and a[0] >= 0 and b[0] >= 0:
        # Many values in a small range (two common words' documents): flags over the range
        # (at 358,436 documents, 0.23 against 1.47 ms for 47,000 and 130,000 documents).
        flags = np.zeros(size, dtype=bool)
        flags[a] = True
        return b[flags[b]]
    if len(a) >= MERGED_INTERSECT and len(a) * 8 > len(b):
        # Two long arrays over a wide range (a phrase's occurrences): merged, the values in
        # both are those seen twice (2.3 against 6.6 ms for 200,000 and 300,000 values).
        both = merge_sorted([a, b])
        return both[1:][both[1:] == both[:-1]]
    return a[locate(b, a)[1]]


def union(parts: list[np.ndarray]) -> np.ndarray:
    """The distinct values of ascending arrays, ascending (np.union1d without its import of
    numpy.ma, which a one-query process would pay for); empty arrays, or none, are welcome."""
    parts = [p for p in parts if len(p)]
    if len(parts) < 2:
        return parts[0] if parts else NO_DOCS
    return distinct_sorted(merge_sorted(parts))


def merge_sorted(parts: list[np.ndarray]) -> np.ndarray:
    """The values of ascending arrays in one ascending array (a stable sort merges the runs
    in one pass, where numpy's default sort took 30 times as long on 160,000 numbers)."""
    return np.sort(np.concatenate(parts), kind="stable")


def distinct_sorted(values: np.ndarray) -> np.ndarray:
    """An ascending array with each value once."""
    if len(values) < 2:
        return values
    return values[run_starts(values)]


def run_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values of an ascending array (not empty) starts."""
    first = np.empty(len(values), dtype=bool)
    first[0] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    return np.flatnonzero(first)


def followed_in_fields(
    fields: Sequence[str], slop: int, occurrences_in: Callable[[str], list[np.ndarray] | None],
) -> np.ndarray:
    """The documents (ascending) where, in one of ``fields``, the occurrences of each word
    (``occurrences_in(field)``, None when a word has none) follow the previous word's with at
    most ``slop`` other words between."""
    found = []
    for f in fields:
        keys = occurrences_in(f)
        if keys:
            docs = following(keys, slop + 1)
            if len(docs):
                found.append(docs)
    return union(found)


def following(keys: list[np.ndarray], reach: int) -> np.ndarray:
    """The documents (ascending) where each word follows the previous one at most ``reach``
    positions later: ``keys`` holds each word's occurrences, ascending, as document << 32 |
    position, so that following a word is a sorted search over all occurrences at once."""
    if reach == 1:
        # The i-th word's occurrences, i positions back, are where the words may start:
        # intersected from the rarest word.
        starts: np.ndarray | None = None
        for i in sorted(range(len(keys)), key=lambda i: len(keys[i])):
            shifted = keys[i] - i if i else keys[i]
            starts = shifted if starts is None else intersect(starts, shifted)
            if not len(starts):
                return NO_DOCS
        return distinct_sorted((starts if starts is not None else NO_DOCS) >> 32)
    ends = keys[0]
    for later in keys[1:]:
        if not len(ends):
            break
        # The closest occurrence of the previous word before each of this word's.
        at = np.searchsorted(ends, later)
        closest = ends[np.maximum(at - 1, 0)]
        ends = later[(at > 0) & (later - closest <= reach)]
    return distinct_sorted(ends >> 32)


# ---------------------------------------------------------------------------
# Whoosh's length columns, and malloc


def _length_column(leaf: Any, fieldname: str) -> Any:
    """The per-document length bytes of a field in one segment (Whoosh's own column)."""
    try:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

        perdoc = leaf._perdoc
        return perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    except (AttributeError, ImportError):
        return None


def _column_bytes(column: Any, doc_count: int) -> bytes | None:
    """All values of a one-byte numeric column in one read (None if it is another kind)."""
    if column is None or getattr(column, "_typecode", None) != "B" or column._fixedlen != 1:
        return None
    try:
        raw = bytes(column._dbfile.get(column._basepos, column._count))
    except (AttributeError, OSError):
        return None
    return raw + bytes([column._default or 0]) * (doc_count - len(raw))


_MALLOC_TUNED = False
#: glibc's mallopt parameters, and the values set (see _reuse_freed_memory).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MALLOC_MMAP_THRESHOLD = 32 << 20
MALLOC_TRIM_THRESHOLD = 64 << 20


def _reuse_freed_memory() -> None:
    """Let glibc's malloc reuse the memory of large freed arrays instead of unmapping it.

    A search allocates arrays of one value per document and frees them when it
    ends. glibc maps every allocation above 128 KB afresh and unmaps it when it
    is freed (its own threshold, which grows to avoid that, is undone here by
    the trimming of the heap), so each search page-faulted all of its arrays in
    again: 800 page faults, a third of the median query on 90,000 documents.
    With these thresholds, arrays under 32 MB come from the heap, and up to
    64 MB of freed memory stays there for the next search. Done once per
    process; nothing happens on other C libraries, or with FRSEARCH_MALLOC=default.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    if os.environ.get("FRSEARCH_MALLOC") == "default":
        return
    import ctypes  # already imported by numpy

    try:
        libc = ctypes.CDLL(None)  # the C library the process runs on
    except (OSError, TypeError):
        return
    if hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt"):
        libc.mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD)
