"""The best hits of a query without scoring every matching document (block-max MaxScore).

A page of results needs the k best documents, not a score for each document that
matches. Each clause of a query is a list of documents with their scores (a word's are
kept between queries), and the range of document numbers is cut into blocks of
BLOCK: a clause knows its best score in each block. In a block, the clauses whose
best scores, added up and times the best coordination factor they can give, stay below
the k-th best score already seen cannot bring a document of theirs to the page alone:
only the documents of the block's other clauses are scored (a block where no clause
can reach it is skipped), each looked up in the other clauses' lists. Blocks are read
from the highest bound down, in rounds of growing size; the k-th best score of the
documents scored so far is the threshold of the next round.

The hits and scores are those of the exhaustive evaluation (frsearch.ranking's
``Scorer.evaluate``) to the last bit: the same arithmetic runs, in the same order, on
fewer documents; the proximity and window bonuses go to the same best
PROXIMITY_DEPTH documents; a test compares both on many queries and option sets.
The total stays exact: each list also keeps its documents as a bit set, and the bit
sets of the clauses are joined and counted. A query this module does not prune
(``best`` returns None) is left to the exhaustive evaluation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from frsearch.proximity import ByDocument, Proximity
from frsearch.query import Either, Group, Node, Phrase, Word, distinct
from frsearch.ranking import (
    PROXIMITY_DEPTH, QueryRun, best_of, kth_largest, lists_at, split_question_words,
)
from frsearch.segments import NO_DOCS, NO_SCORES, intersect, locate, union

if TYPE_CHECKING:
    from frsearch.ranking import Expansions, Scorer

__all__ = ["BLOCK", "PRUNE_MIN_DOCS", "Pruner", "ScoredList"]

#: Below this many documents, scoring every matching one costs no more than pruning (CPU a
#: query once each query ran, exhaustive against pruned: 1.78 against 2.23 ms at 11,545
#: documents, 2.95 against 2.98 at 89,609, 3.89 against 3.55 at 179,218, 5.33 against 4.12
#: at 358,436; see benchmarks/README.md), so search() prunes from this size up.
PRUNE_MIN_DOCS = 100_000
#: Document numbers per block. Smaller blocks bound scores more tightly but cost more per
#: query (a few arrays of one value per block and clause).
BLOCK = 256
#: A bound is compared with some slack: a score and its bound are computed in another
#: order, and may differ in their last bits.
BOUND_SLACK = 1e-9
#: The first round of blocks holds about this many times the depth searched in documents,
#: and each next round ROUND_GROWTH times as many as the one before.
FIRST_ROUND = 4
ROUND_GROWTH = 4

#: (the k best documents, best first, with their scores; the number of matching documents)
Best = tuple[list[tuple[int, float]], int]

_BIT_COUNTS = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


class ScoredList:
    """A clause's documents (ascending) and scores, with what pruning reads of them: each
    block's best score and whether it has documents, where each block starts in the list,
    and the documents as a bit set."""

    __slots__ = ("ids", "values", "starts", "maxima", "filled", "bits", "negative")

    def __init__(self, ids: np.ndarray, values: np.ndarray, doc_count: int) -> None:
        self.ids, self.values = ids, values
        blocks = max(1, -(-doc_count // BLOCK))
        self.starts = np.searchsorted(ids, np.arange(blocks + 1, dtype=np.int64) * BLOCK)
        self.filled = self.starts[1:] > self.starts[:-1]
        self.maxima = np.zeros(blocks)
        used = np.flatnonzero(self.filled)
        if len(used):
            self.maxima[used] = np.maximum.reduceat(values, self.starts[used])
        mask = np.zeros(blocks * BLOCK, dtype=bool)
        mask[ids] = True
        self.bits = np.packbits(mask)
        #: Whether some score is below 0 (a negative weight among the options): block bounds,
        #: added up, then bound nothing.
        self.negative = bool(len(values)) and float(values.min()) < 0

    @property
    def size(self) -> int:
        """What the list weighs in a cache, in postings."""
        return len(self.ids) + len(self.bits) // 8 + len(self.maxima)

    def slices(self, blocks: np.ndarray) -> np.ndarray:
        """The list's documents in ``blocks`` (ascending block numbers), ascending."""
        lo, hi = self.starts[blocks], self.starts[blocks + 1]
        lengths = hi - lo
        total = int(lengths.sum())
        if not total:
            return NO_DOCS
        ends = np.cumsum(lengths)
        return self.ids[np.repeat(lo - (ends - lengths), lengths) + np.arange(total)]


class _Members:
    """The documents of an ascending array, for ``docnum in members``."""

    __slots__ = ("ids",)

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = ids

    def __contains__(self, docnum: object) -> bool:
        i = int(np.searchsorted(self.ids, docnum))
        return i < len(self.ids) and self.ids[i] == docnum


class Pruner:
    """Finds the best hits of one query run (see the module's docstring)."""

    def __init__(self, scorer: Scorer, run: QueryRun) -> None:
        self.scorer = scorer
        self.segments = scorer.segments
        self.options = scorer.options
        self.run = run
        self._lists: dict[int, ScoredList] = {}

    def best(self, root: Node, k: int) -> Best | None:
        """The ``k`` best documents of the query and how many match; None when the query's
        shape is left to the exhaustive evaluation, or when the pruned one could not be
        sure of its page (many of the best documents excluded)."""
        if isinstance(root, Group):
            if root.must:
                return self._all_of(root, k)
            free = self._free_clauses(root)
            if free is None:
                return None  # only exclusions: every other document matches
            return self._sum_of(*free, k, free=True)
        clauses = root.clauses if isinstance(root, Either) else [root]
        return self._sum_of(clauses, [self._list(c) for c in clauses], [], k, free=False)

    def _free_clauses(self, group: Group) -> tuple[list[Node], list[ScoredList], list[ScoredList]] | None:
        """A group of free clauses: the clauses searched, their lists and the excluded
        clauses' lists (None when it has only exclusions)."""
        clauses, minor = split_question_words(distinct(group.should))
        if not clauses:
            return None
        lists = [self._list(c) for c in clauses]
        if minor and not any(len(found.ids) for found in lists):
            clauses = clauses + minor  # nothing but the question words matches
            lists += [self._list(c) for c in minor]
        return clauses, lists, [self._list(c) for c in group.must_not]

    # -- clauses ------------------------------------------------------------------------

    def _list(self, clause: Node) -> ScoredList:
        """The clause's documents and scores, as the exhaustive evaluation would score them
        (and in its order: a typo's expansions use the query's budget)."""
        found = self._lists.get(id(clause))
        if found is not None:
            return found
        scorer, run = self.scorer, self.run
        n = self.segments.doc_count_all
        if isinstance(clause, Word):
            expansions = scorer.expander.expansions_once(clause, run)
            run.expansions[clause.text] = [t for t, _ in expansions]
            found = self.word_list(clause, expansions)
            run.record(clause, expansions, _Members(found.ids))
        elif isinstance(clause, Phrase):
            docs, total = scorer.phrase_scores(clause, run, _Members)
            found = ScoredList(docs, total, n)
        else:
            # An OR or a group in parentheses, scored in every document it matches (its own
            # proximity bonuses need its own best documents); a group with required clauses
            # or only exclusions goes through the exhaustive evaluation.
            free = self._free_clauses(clause) if isinstance(clause, Group) and not clause.must else None
            every: tuple[np.ndarray, np.ndarray, int] | None = None
            if isinstance(clause, Either):
                inner = clause.clauses
                every = self._scored(inner, [self._list(c) for c in inner], [], None, free=False)
            elif free is not None:
                every = self._scored(*free, None, free=True)
            if every is not None:
                docs, scores, _total = every
            else:
                dense, mask = scorer.evaluate(clause, run)
                docs = np.flatnonzero(mask)
                scores = dense[docs]
            found = ScoredList(docs, scores, n)
        self._lists[id(clause)] = found
        return found

    def word_list(self, word: Word, expansions: Expansions) -> ScoredList:
        """A word's list, kept between queries with the word's scores."""
        scorer = self.scorer
        key = (tuple(expansions), word.fields)
        found = scorer.lists.get(key)
        if found is None:
            ids, values = scorer.word_scores(word, expansions)
            found = ScoredList(ids, values, self.segments.doc_count_all)
            with self.segments.lock:
                scorer.lists.put(key, found, found.size)
        return found

    # -- required clauses ---------------------------------------------------------------

    def _all_of(self, group: Group, k: int) -> Best:
        """A group with required clauses: the documents that have them all, scored."""
        clauses, _minor = split_question_words(distinct(group.should))  # question words: never searched here
        required = [self._list(c) for c in group.must]
        optional = [self._list(c) for c in clauses]
        excluded = [self._list(c) for c in group.must_not]
        docs: np.ndarray | None = None
        for found in sorted(required, key=lambda found: len(found.ids)):
            docs = found.ids if docs is None else intersect(docs, found.ids)
        assert docs is not None
        for found in excluded:
            if len(docs) and len(found.ids):
                docs = docs[~_has(found.ids, docs)]
        scores: np.ndarray | None = None
        for values, _present in lists_at([(found.ids, found.values) for found in required + optional], docs):
            scores = values if scores is None else scores + values
        assert scores is not None
        best, values = best_of(docs, scores, k)
        return list(zip(best.tolist(), values.tolist())), len(docs)

    # -- clauses that add up --------------------------------------------------------------

    def _sum_of(
        self, clauses: list[Node], lists: list[ScoredList], excluded: list[ScoredList], k: int, free: bool,
    ) -> Best | None:
        """The ``k`` best documents of clauses whose scores add up: free words (``free``: with
        coordination and the proximity bonuses) or the alternatives of an OR."""
        found = self._scored(clauses, lists, excluded, k, free)
        if found is None:
            return None
        docs, ranked, total = found
        best, scores = best_of(docs, ranked, k)
        return list(zip(best.tolist(), scores.tolist())), total

    def _scored(
        self, clauses: list[Node], lists: list[ScoredList], excluded: list[ScoredList], k: int | None, free: bool,
    ) -> tuple[np.ndarray, np.ndarray, int] | None:
        """The documents (ascending) that may be among the ``k`` best (every matching one
        when ``k`` is None) with their scores, and how many documents match; None when too
        many of the best were excluded to be sure of the page."""
        scorer, opts = self.scorer, self.options
        masses = [scorer.clause_idf(c, self.run) for c in clauses] if free else [0.0] * len(clauses)
        mass = sum(masses)
        power = opts.coordination if free and len(clauses) >= 2 and mass > 0 else 0.0
        near = free and opts.proximity_weight > 0 and len(clauses) > 1
        depth = None if k is None else max(k, PROXIMITY_DEPTH) if near else k
        matching, total = _counts(lists, excluded)

        def score(docs: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None]:
            """Each clause's scores at ``docs``, their sum, and the coordination factors."""
            looked_up = lists_at([(found.ids, found.values) for found in lists], docs)
            values = [v for v, _present in looked_up]
            sums = values[0].copy()
            for more in values[1:]:
                sums += more
            factors = scorer.coordination([has for _v, has in looked_up], masses) if power else None
            return values, sums, factors

        threshold = 0.0
        if depth is not None and matching > depth and power >= 0 and not any(found.negative for found in lists):
            blocks = _Blocks(lists, masses, mass, power)
            docs, values, sums, factors, threshold = _by_blocks(blocks, score, depth)
        else:
            docs = union([found.ids for found in lists])
            values, sums, factors = score(docs)
        ranked = sums if factors is None else sums * factors
        if near:
            restricted = matching > PROXIMITY_DEPTH
            within = np.sort(best_of(docs, ranked, PROXIMITY_DEPTH)[0]) if restricted else docs
            sums = self._bonus(clauses, lists, masses, docs, within, values, sums, restricted)
            ranked = sums if factors is None else sums * factors
        for found in excluded:
            if len(docs) and len(found.ids):
                keep = ~_has(found.ids, docs)
                docs, ranked = docs[keep], ranked[keep]
        if k is not None and threshold > 0 and int(np.count_nonzero(ranked >= threshold)) < min(k, total):
            return None  # too many of the best were excluded to be sure of the page
        return docs, ranked, total

    def _bonus(
        self, clauses: list[Node], lists: list[ScoredList], masses: list[float], docs: np.ndarray,
        within: np.ndarray, values: list[np.ndarray], sums: np.ndarray, restricted: bool,
    ) -> np.ndarray:
        """``sums`` with the proximity bonuses of the ``within`` documents added (when not
        ``restricted``, these are all the matching documents)."""
        at = np.searchsorted(docs, within)
        by_doc = [ByDocument(within, clause_values[at]) for clause_values in values]
        with_bonus = ByDocument(within, sums[at])
        present = [bool(len(found.ids)) for found in lists]
        proximity = Proximity(self.segments, self.options, self.run, within if restricted else None)
        proximity.add_bonus(clauses, by_doc, present, masses, with_bonus)
        out = sums.copy()
        out[at] = with_bonus.values
        return out


class _Blocks:
    """The bounds of the clauses in each block: for each number of a block's weakest
    clauses, the best score a document that has only them can reach."""

    def __init__(self, lists: list[ScoredList], masses: list[float], mass: float, power: float) -> None:
        self.lists = lists
        maxima = np.stack([found.maxima for found in lists])  # clause x block
        self.filled = np.stack([found.filled for found in lists])
        self.order = np.argsort(maxima, axis=0, kind="stable")  # weakest clause of each block first
        reach = np.cumsum(np.take_along_axis(maxima, self.order, axis=0), axis=0)
        if power:
            weights = np.where(self.filled, np.asarray(masses)[:, None], 0.0)
            share = np.cumsum(np.take_along_axis(weights, self.order, axis=0), axis=0) / mass
            reach = reach * np.power(np.minimum(share, 1.0), power)
        self.reach = reach * (1.0 + BOUND_SLACK)

        #: The best score of any document of each block, and its documents at most.
        self.bound = self.reach[-1]
        self.sizes = sum(np.diff(found.starts) for found in lists)
        self.rank = np.empty_like(self.order)  # each clause's place in its block's order
        np.put_along_axis(self.rank, self.order, np.arange(len(lists))[:, None], axis=0)

    def candidates(self, threshold: float, blocks: np.ndarray) -> np.ndarray:
        """The documents of ``blocks`` (ascending) that may score ``threshold`` or more: in
        each block, those of the clauses left when the weakest ones there, together, cannot
        reach it."""
        weak = np.count_nonzero(self.reach[:, blocks] < threshold, axis=0)
        needed = (self.rank[:, blocks] >= weak[None, :]) & self.filled[:, blocks]
        return union([found.slices(blocks[row]) for found, row in zip(self.lists, needed)])


Scored = tuple[list[np.ndarray], np.ndarray, "np.ndarray | None"]


def _by_blocks(
    blocks: _Blocks, score: Callable[[np.ndarray], Scored], depth: int,
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, np.ndarray | None, float]:
    """The documents (ascending) that may be among the ``depth`` best, scored: blocks are
    read from the highest bound down, in rounds that grow ROUND_GROWTH times, and each round's
    scores raise the threshold that the next blocks and documents must be able to reach;
    the reading stops at the first block that cannot. Returns the documents, their scores
    (as ``score`` gives them) and the last threshold."""
    threshold = 0.0
    order = np.argsort(-blocks.bound, kind="stable")
    sizes = np.cumsum(blocks.sizes[order])
    found: list[tuple[np.ndarray, Scored, np.ndarray]] = []
    start, want, done = 0, FIRST_ROUND * depth, 0
    while start < len(order) and blocks.bound[order[start]] >= threshold:
        stop = min(len(order), int(np.searchsorted(sizes, done + want)) + 1)
        chosen = order[start:stop]
        chosen = np.sort(chosen[blocks.bound[chosen] >= threshold])
        docs = blocks.candidates(threshold, chosen)
        if len(docs):
            scored = score(docs)
            _values, sums, factors = scored
            found.append((docs, scored, sums if factors is None else sums * factors))
            ranked = np.concatenate([r for _d, _s, r in found])
            if len(ranked) > depth:
                threshold = max(threshold, kth_largest(ranked, depth))
        done = int(sizes[stop - 1])
        start, want = stop, want * ROUND_GROWTH
    if not found:
        return NO_DOCS, [NO_SCORES for _ in blocks.lists], NO_SCORES, None, threshold
    docs = np.concatenate([d for d, _s, _r in found])
    order = np.argsort(docs, kind="stable")
    values = [np.concatenate([s[0][i] for _d, s, _r in found])[order] for i in range(len(blocks.lists))]
    sums = np.concatenate([s[1] for _d, s, _r in found])[order]
    factors = None if found[0][1][2] is None else np.concatenate([s[2] for _d, s, _r in found])[order]
    return docs[order], values, sums, factors, threshold


def _counts(lists: list[ScoredList], excluded: list[ScoredList]) -> tuple[int, int]:
    """How many documents the lists have, and how many of those none of ``excluded`` has."""
    bits = lists[0].bits.copy()
    for found in lists[1:]:
        bits |= found.bits
    matching = int(_BIT_COUNTS[bits].sum())
    if not excluded:
        return matching, matching
    for found in excluded:
        bits &= ~found.bits
    return matching, int(_BIT_COUNTS[bits].sum())


def _has(ids: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Whether each of ``docs`` (ascending) is in ``ids`` (ascending)."""
    if not len(ids) or not len(docs):
        return np.zeros(len(docs), dtype=bool)
    return locate(ids, docs)[1]

