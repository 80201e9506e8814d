"""The proximity and window bonuses of free words (see SearchOptions).

Among the best documents so far (``within``, the best PROXIMITY_DEPTH by score), a document
gains

- for two consecutive free words of the query found in that order, at most
  ``proximity_slop`` positions apart, in one field: ``proximity_weight`` times their scores;
- for three consecutive free words side by side: ``proximity_triple_weight`` times their
  three scores;
- for the best window of ``window_size`` positions of one field holding at least
  WINDOW_MIN distinct free words, in any order: ``window_weight`` times its word scores
  times those words' share of the query (as coordination counts it).

A word's first expansions (related forms, close spellings) stand for it. Positions are read
as occurrences, ``document << 32 | position``, so that a search over sorted arrays finds
words that follow each other in every document at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

import numpy as np

from frsearch.query import Node, Word, word_key
from frsearch.segments import NO_DOCS, Segments, followed_in_fields, intersect, merge_sorted, run_starts, union

if TYPE_CHECKING:
    from frsearch.ranking import QueryRun, SearchOptions

__all__ = ["ByDocument", "Proximity", "WINDOW_MIN"]

#: Scores by document number: an array over every document, or a ByDocument.
Values = Union[np.ndarray, "ByDocument"]

#: A window earns its bonus when it holds this many distinct free words of the query.
WINDOW_MIN = 2
#: The expansions of a word that stand for it in the bonuses.
PROXIMITY_TERMS = 3


class Proximity:
    """The bonuses of one group of free words, in the ``within`` documents (None: all)."""

    def __init__(self, segments: Segments, options: SearchOptions, run: QueryRun, within: np.ndarray | None) -> None:
        self.segments = segments
        self.options = options
        self.run = run
        self.within = within
        #: Each (field, term)'s occurrences in the ``within`` documents, read once for the
        #: pairs, triples and windows of the query.
        self._occurrences: dict[tuple[str, str], np.ndarray] = {}

    def add_bonus(
        self, clauses: list[Node], scores: list[Values], present: list[bool], masses: list[float], sums: Values,
    ) -> None:
        """Add the bonuses into ``sums``: ``scores`` holds each free clause's score by document
        number (of the ``within`` documents at least), ``present`` whether it matches any
        document, ``masses`` what each weighs in coordination."""
        opts = self.options
        slop = max(0, opts.proximity_slop - 1)
        adjacent: dict[int, np.ndarray] = {}  # i: documents with words i and i + 1 side by side
        for i in _pairs(clauses):
            if not present[i] or not present[i + 1]:
                continue
            scores_a, scores_b = scores[i], scores[i + 1]
            near = self._near(clauses[i : i + 2], slop)
            if not slop:
                adjacent[i] = near
            if len(near):
                sums[near] += opts.proximity_weight * (scores_a[near] + scores_b[near])
        if opts.proximity_triple_weight > 0:
            for i in _triples(clauses):
                if not all(present[i : i + 3]):
                    continue
                candidates = self.within
                if i in adjacent and i + 1 in adjacent:
                    # Three words side by side: both of their pairs are.
                    candidates = intersect(adjacent[i], adjacent[i + 1])
                    if not len(candidates):
                        continue
                near = self._near(clauses[i : i + 3], 0)
                near = near if candidates is None else intersect(near, candidates)
                if len(near):
                    s1, s2, s3 = scores[i : i + 3]
                    sums[near] += opts.proximity_triple_weight * (s1[near] + s2[near] + s3[near])
        if opts.window_weight > 0:
            self._window(clauses, scores, present, masses, sums)

    def _window(
        self, clauses: list[Node], scores: list[Values], present: list[bool], masses: list[float], sums: Values,
    ) -> None:
        opts = self.options
        words = _window_words(clauses, present)
        if not words:
            return
        total = sum(masses) or 1.0
        found_docs, found_shares = [], []  # per field: documents (ascending), their best window
        fields = clauses[words[0]].fields
        for f in fields:
            keys = [self._merged(f, self._terms(clauses[i]), fields) for i in words]
            present = [k for k in keys if len(k)]
            if len(present) < WINDOW_MIN:
                continue
            starts = union(present)  # every occurrence opens a window
            ends = starts + opts.window_size  # [start, start + size) stays in one document
            count = np.zeros(len(starts), dtype=np.int64)
            share = np.zeros(len(starts))
            for i, k in zip(words, keys):
                if len(k):
                    has = occurs_within(k, starts, ends)
                    count += has
                    share += np.where(has, masses[i] / total, 0.0)
            good = count >= WINDOW_MIN
            if good.any():
                docs, best = _best_per_doc(starts[good] >> 32, share[good])
                found_docs.append(docs)
                found_shares.append(best)
        if found_docs:
            docs = np.concatenate(found_docs)
            order = np.argsort(docs, kind="stable")
            docs, best = _best_per_doc(docs[order], np.concatenate(found_shares)[order])
            plain = scores[0][docs]
            for values in scores[1:]:
                plain += values[docs]
            sums[docs] += opts.window_weight * (best * plain)

    def _near(self, words: list[Node], slop: int) -> np.ndarray:
        """The documents (ascending) where ``words`` follow each other in one field, at most
        ``slop`` other words between each, any of each word's first expansions standing for it."""
        fields = words[0].fields  # type: ignore[union-attr]
        choices = [self._terms(w) for w in words]

        def occurrences_in(fieldname: str) -> list[np.ndarray] | None:
            keys = []
            for terms in choices:
                merged = self._merged(fieldname, terms, fields)
                if not len(merged):
                    return None
                keys.append(merged)
            return keys

        return followed_in_fields(fields, slop, occurrences_in)

    def _terms(self, word: Node) -> list[str]:
        """The terms that stand for a word in the bonuses: its first expansions."""
        assert isinstance(word, Word)
        return [t for t, _w in self.run.expanded.get(word_key(word)) or [(word.term, 1.0)]][:PROXIMITY_TERMS]

    def _merged(self, fieldname: str, terms: list[str], fields: tuple[str, ...]) -> np.ndarray:
        """The occurrences of any of ``terms`` (a word's expansions) in one field, ascending."""
        parts = []
        for t in terms:
            part = self._occurrences.get((fieldname, t))
            if part is None:
                docs = self.segments.term_vectors(t, fields).fields[fieldname][0]
                if self.within is not None:
                    docs = intersect(self.within, docs)
                part = self.segments.occurrences(fieldname, t, docs) if len(docs) else NO_DOCS
                self._occurrences[fieldname, t] = part
            if len(part):
                parts.append(part)
        if not parts:
            return NO_DOCS
        return parts[0] if len(parts) == 1 else merge_sorted(parts)


def occurs_within(keys: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether some of ``keys`` (ascending, not empty) lies in each [start, end) (``starts``
    ascending): the first key from each start on comes before its end (one sorted search
    where counting the keys below each end and each start took two)."""
    has = keys[np.minimum(np.searchsorted(keys, starts), len(keys) - 1)] < ends
    has &= starts <= keys[-1]
    return has


def _best_per_doc(docs: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each document of ``docs`` (ascending, repeated) once, with the largest of its values."""
    firsts = run_starts(docs)
    return docs[firsts], np.maximum.reduceat(values, firsts)


class ByDocument:
    """Values of some documents (ascending), read and written by document number as an array
    over every document would be (the documents asked for must be among them)."""

    __slots__ = ("docs", "values")

    def __init__(self, docs: np.ndarray, values: np.ndarray) -> None:
        self.docs, self.values = docs, values

    def __getitem__(self, wanted: np.ndarray) -> np.ndarray:
        return self.values[np.searchsorted(self.docs, wanted)]

    def __setitem__(self, wanted: np.ndarray, values: np.ndarray) -> None:
        self.values[np.searchsorted(self.docs, wanted)] = values


def _pairs(clauses: list[Node]) -> list[int]:
    """The i where free clauses i and i + 1 are words that may earn the proximity bonus."""
    out = []
    for i in range(len(clauses) - 1):
        a, b = clauses[i], clauses[i + 1]
        if isinstance(a, Word) and isinstance(b, Word) and a.plain and b.plain:
            if a.fields == b.fields and a.term != b.term:
                out.append(i)
    return out


def _triples(clauses: list[Node]) -> list[int]:
    """The i where free clauses i to i + 2 are three words that may earn the triple bonus."""
    out = []
    for i in range(len(clauses) - 2):
        words = clauses[i : i + 3]
        if not all(isinstance(w, Word) and w.plain for w in words):
            continue
        if len({w.fields for w in words}) > 1 or len({w.term for w in words}) < 3:  # type: ignore[union-attr]
            continue
        out.append(i)
    return out


def _window_words(clauses: list[Node], present: list[bool]) -> list[int]:
    """The free clauses the window bonus looks at: plain words found in some document,
    searched in the same fields; none when they are fewer than WINDOW_MIN."""
    out = [i for i, c in enumerate(clauses) if isinstance(c, Word) and c.plain and present[i]]
    if len(out) < WINDOW_MIN or any(clauses[i].fields != clauses[out[0]].fields for i in out):  # type: ignore[union-attr]
        return []
    return out
