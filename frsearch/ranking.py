"""Ranking: BM25 per field, coordination, the proximity bonuses, feedback and top-k.

A query tree is evaluated into two arrays over every document number: each document's
score, and whether it matches (:meth:`Scorer.evaluate`). A word scores BM25 in the title and
in the body, weighted and added up, with its idf raised to ``idf_exponent``; a word that
stands for several terms (related forms, close spellings) scores its best one. Free words
are added up, scaled by the share of the query's idf each document holds (coordination),
and the best documents earn the proximity and window bonuses (frsearch.proximity). Past the
first page, pseudo-relevance feedback orders the later hits (:meth:`Scorer.feedback`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
from whoosh.util.numeric import byte_to_length

from frsearch.analysis import term_counts
from frsearch.proximity import Proximity
from frsearch.query import FIELDS, Either, Group, Node, Phrase, Word, distinct, word_key, words_of
from frsearch.segments import NO_DOCS, NO_SCORES, BoundedCache, Segments, cache_bound, distinct_sorted, locate, run_starts

if TYPE_CHECKING:
    from frsearch.expand import Expander

__all__ = [
    "PROXIMITY_DEPTH", "QUESTION_WORDS", "QueryRun", "Scorer", "SearchOptions", "best_of", "idf", "kth_largest",
    "lists_at", "split_question_words", "top", "values_and_presence", "values_at",
]


@dataclass
class SearchOptions:
    """Ranking parameters, for library users who want to tune them.

    The defaults were tuned on two French test collections (codedutravail-dev and
    piaf-train, all queries; see benchmarks/README.md). Set them on an index with
    ``Index(path, options=SearchOptions(...))`` or ``index.options = SearchOptions(...)``.
    """

    #: BM25's term-frequency saturation.
    k1: float = 1.2
    #: BM25's length normalisation of each field (0: none, 1: by the field's length).
    b: dict[str, float] = field(default_factory=lambda: {"title": 1.0, "body": 0.5})
    #: Each field's BM25 is multiplied by its weight, and the fields are added up.
    weights: dict[str, float] = field(default_factory=lambda: {"title": 2.0, "body": 1.0})
    #: BM25's idf raised to this power: above 1, rare words weigh more against common ones.
    idf_exponent: float = 1.5
    #: Free words: a document's score times (the share of the query's idf it has) ** this,
    #: so that missing a rare word costs more than missing a common one; 0 turns it off.
    coordination: float = 0.6
    #: Consecutive free words of the query found in that order, at most ``proximity_slop``
    #: positions apart, in a field: the document gains this weight times their scores.
    proximity_weight: float = 0.8
    proximity_slop: int = 1
    #: Three consecutive free words side by side: this weight times their three scores more.
    proximity_triple_weight: float = 0.3
    #: Several free words in any order within ``window_size`` positions of a field (stopwords
    #: take none: 8 is about a sentence): the document gains this weight times its word
    #: scores times those words' share of the query; 0 turns it off.
    window_weight: float = 0.25
    window_size: int = 8
    #: A word the index does not have is searched as close spellings of indexed words.
    typo_tolerance: bool = True
    #: The weight of a close spelling (typo tolerance, ``word~``) against the word itself.
    expansion_weight: float = 0.7
    #: An indexed word also finds the most frequent indexed term of its family a few letters
    #: longer or shorter (Snowball stems *démission* and *démissionner* apart), at this weight.
    related_forms: bool = True
    related_weight: float = 0.6
    #: Pseudo-relevance feedback orders the hits past the first ten by their score plus
    #: ``feedback_weight`` times how well they match the ``feedback_terms`` terms that best
    #: characterise the ``feedback_docs`` best hits; ``feedback_docs=0`` turns it off.
    feedback_docs: int = 5
    feedback_terms: int = 20
    feedback_weight: float = 0.2


#: The proximity and window bonuses look at this many of the best documents so far.
PROXIMITY_DEPTH = 200
#: A word whose postings are fewer than 1/SPARSE_SHARE of the documents is scored by merging
#: its lists; a more common one in arrays over every document (the two cost the same near
#: 1/10: 0.14 against 0.25 ms at 7,500 postings of 358,436 documents, 0.59 against 0.50 at 40,000).
SPARSE_SHARE = 16
#: lists_at() maps documents to places for a list with at most MAPPED_LOOKUP times as many
#: documents as it looks up (in their range), and searches the longer lists; it searches
#: every list for fewer than MAPPED_MIN_DOCS documents (the map is not worth building).
MAPPED_LOOKUP = 2
MAPPED_MIN_DOCS = 4096
#: Feedback leaves the first FEEDBACK_AFTER hits alone (the first page never changes).
FEEDBACK_AFTER = 10
#: Feedback reads this many characters of each field of a document, at most.
FEEDBACK_CHARS = 4_000
#: A feedback term found in more than this share of the documents says too little.
FEEDBACK_MAX_SHARE = 0.1

#: Words that shape a question rather than say what it is about (folded forms). They stay
#: indexed, but a free query word from this list is not searched when the query has other
#: free words (weighing them even 0.3 ranked worse on both test collections).
QUESTION_WORDS = frozenset(
    """
    comment quel quelle quels quelles quand combien pourquoi
    peut peux peuvent pouvoir pourrait pourraient
    doit dois doivent devoir devrait devraient
    faut falloir faudrait
    """.split()
)

Expansions = list[tuple[str, float]]
#: A node's result: (score of every document, whether each document matches).
Dense = tuple[np.ndarray, np.ndarray]


def idf(df: int, doc_count: int, exponent: float) -> float:
    """The idf of a term found in ``df`` of ``doc_count`` documents: BM25's, raised to ``exponent``."""
    n = max(doc_count, 1)
    value = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
    return value if exponent == 1.0 else value**exponent


def top(scores: np.ndarray, docs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of ``docs`` by score, then lower document number, best first."""
    return best_of(docs, scores[docs], k)


def best_of(docs: np.ndarray, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of ``docs`` by their ``values``, then lower document number, best first."""
    if len(docs) > k:
        keep = values >= kth_largest(values, k)
        docs, values = docs[keep], values[keep]
    order = np.lexsort((docs, -values))[:k]
    return docs[order], values[order]


#: top() finds the k-th best of more values than this from a sample of them first.
SAMPLED_TOP = 8 * 1024


def kth_largest(values: np.ndarray, k: int) -> float:
    """The ``k``-th largest of ``values`` (more than k of them).

    Of many values, a strided sample's k-th largest comes first: it cannot be above the
    answer, so the values below it are dropped before the exact search, which then looks
    at a few thousand values instead of all (a partition of 150,000 took a millisecond).
    """
    if len(values) > SAMPLED_TOP:
        sample = values[:: len(values) // (SAMPLED_TOP // 2)]
        if len(sample) > k:
            values = values[values >= np.partition(sample, len(sample) - k)[len(sample) - k]]
    return float(np.partition(values, len(values) - k)[len(values) - k])


class _Members:
    """The documents marked in an array, for ``docnum in members``."""

    __slots__ = ("mask",)

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask

    def __contains__(self, docnum: object) -> bool:
        return bool(self.mask[docnum])


class QueryRun:
    """What one query run learnt: each word's expansions, and which terms matched where."""

    def __init__(self, root: Node | None = None, lenient: bool = False) -> None:
        self.root = root
        #: Whether words that were meant get all their close spellings (the search found
        #: nothing without them), and whether a word had some held back.
        self.lenient = lenient
        self.held_back = False
        #: Expansions of each distinct word (also of those scored only where needed).
        self.expanded: dict[tuple, Expansions] = {}
        #: Expansions and score arrays of each distinct word.
        self.vectors: dict[tuple, tuple[Expansions, tuple[np.ndarray, np.ndarray]]] = {}
        self.typo_budget = 0
        #: The terms each word (as typed) was searched as.
        self.expansions: dict[str, list[str]] = {}
        #: The terms pseudo-relevance feedback ranked the later hits with (if it did).
        self.feedback: list[str] = []
        self._matched: list[tuple[list[str], Any]] = []
        self._term_words: dict[str, str] | None = None
        self._context: list[str] | None = None

    def record(self, word: Word, expansions: Expansions, members: Any) -> None:
        """Note that ``members`` (anything ``docnum in`` works on) have the word's terms."""
        self._matched.append(([t for t, _ in expansions], members))

    def terms_in(self, docnum: int) -> set[str]:
        out: set[str] = set()
        for terms, docs in self._matched:
            if docnum in docs:
                out.update(terms)
        return out

    def term_words(self) -> dict[str, str]:
        """The query word (as typed) each matched term stands for, once the query has run."""
        if self._term_words is None:
            self._term_words = {t: text for text, found in self.expansions.items() for t in found}
        return self._term_words

    def context_terms(self, segments: Segments) -> list[str]:
        """Indexed terms of the query's plain words (computed once per query)."""
        if self._context is None:
            self._context = [
                w.term for w in words_of(self.root) if w.plain and segments.has_term(w.term, w.fields)
            ]
        return self._context


class Scorer:
    """Scores query trees on one committed state of an index with one set of options."""

    def __init__(self, segments: Segments, options: SearchOptions, expander: Expander) -> None:
        self.segments = segments
        self.options = options
        self.expander = expander
        self._saturations: dict[str, np.ndarray] = {}
        self._by_document: dict[str, np.ndarray] = {}
        #: Each word's (document numbers, scores), kept across queries while they fit.
        self._word_scores = BoundedCache(cache_bound(segments.doc_count_all))
        #: Each word's frsearch.pruning.ScoredList, kept likewise.
        self.lists = BoundedCache(cache_bound(segments.doc_count_all))

    def idf(self, df: int) -> float:
        return idf(df, self.segments.doc_count, self.options.idf_exponent)

    # -- BM25 -------------------------------------------------------------------------

    def saturation(self, fieldname: str) -> np.ndarray:
        """k1 times BM25's length normaliser 1 - b + b * length / average, per length code."""
        found = self._saturations.get(fieldname)
        if found is None:
            b = self.options.b.get(fieldname, 0.75)
            avg = self.segments.average.get(fieldname) or 1.0
            k1 = self.options.k1
            norms = [1.0 - b + b * byte_to_length(i) / avg for i in range(256)]
            found = self._saturations[fieldname] = np.array([k1 * n for n in norms], dtype=np.float64)
        return found

    def saturations(self, fieldname: str) -> np.ndarray:
        """saturation() of each document's length in ``fieldname``, by document number (one
        lookup a posting where the length code and its saturation took two: half the time)."""
        found = self._by_document.get(fieldname)
        if found is None:
            found = self._by_document[fieldname] = self.saturation(fieldname)[self.segments.length_codes(fieldname)]
        return found

    def word_scores(self, word: Word, expansions: Expansions) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers ascending, BM25 score of the word's best term), kept between queries."""
        key = (tuple(expansions), word.fields)
        cached = self._word_scores.get(key)
        if cached is not None:
            return cached
        segments = self.segments
        # Each term's parts: (documents, scores) in each field that has it, the longest first.
        terms, negative = [], False
        for term, weight in expansions:
            found = self.field_postings(term, weight, word.fields)
            if found:
                terms.append([(ids, _bm25(fw, tfs, self.saturations(f)[ids])) for f, ids, tfs, fw in found])
                negative = negative or any(fw < 0 for _f, _ids, _tfs, fw in found)
        postings = sum(len(ids) for parts in terms for ids, _part in parts)
        if not terms:
            cached = (NO_DOCS, NO_SCORES)
        elif len(terms) == 1 and len(terms[0]) == 1:
            cached = terms[0][0]  # one term in one field: already (documents, scores)
        elif postings * SPARSE_SHARE < segments.doc_count_all:
            cached = _sparse_word(terms)
        else:
            cached = self._dense_word(terms, negative)
        with segments.lock:
            self._word_scores.put(key, cached, len(cached[0]))
        return cached

    def _dense_word(self, terms: list[list[tuple[np.ndarray, np.ndarray]]], negative: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """A word's (documents, scores) from its terms' parts (see word_scores), added up in
        an array over every document: faster than merging lists when they hold many
        documents. The most common term is added up there; a term rare enough is merged as
        a list and its best taken document by document, unless some score may be below 0
        (``negative``: where a term is missing, it counts 0, which may then be the best)."""
        n = self.segments.doc_count_all
        best: np.ndarray | None = None
        present = np.zeros(n, dtype=bool)
        sizes = [sum(len(ids) for ids, _part in parts) for parts in terms]
        for size, parts in sorted(zip(sizes, terms), key=lambda pair: -pair[0]):
            if best is not None and not negative and size * SPARSE_SHARE < n:
                ids, values, _counts = _merged(parts, np.add)
                at_best = best[ids]
                np.maximum(at_best, values, out=at_best)
                best[ids] = at_best
                present[ids] = True
                continue
            scores = np.zeros(n)
            scores[parts[0][0]] = parts[0][1]  # the longest field first (0 + x is x), the others added
            for ids, part in parts[1:]:
                scores[ids] += part
            for ids, _part in parts:
                present[ids] = True
            if best is None:
                best = scores
            else:  # a word scores its best term (0 where a term is missing)
                np.maximum(best, scores, out=best)
        assert best is not None
        ids = np.flatnonzero(present)
        return ids, best[ids]

    def field_postings(self, term: str, weight: float, fields: tuple[str, ...]) -> list[tuple[str, np.ndarray, np.ndarray, float]]:
        """(field, document numbers, frequencies, BM25 factor) of a term in each field that
        has it, the longest list first: the term's score in a document is, added up over
        these, ``factor * tf / (tf + saturation)``."""
        found = self.segments.term_vectors(term, fields)
        if not found.df:
            return []
        factor = weight * self.idf(found.df) * (self.options.k1 + 1.0)
        return [
            (f, ids, tfs, self.options.weights.get(f, 1.0) * factor)
            for f, (ids, tfs) in sorted(found.fields.items(), key=lambda kv: -len(kv[1][0]))
            if len(ids)
        ]

    # -- the query tree -------------------------------------------------------------------

    def evaluate(self, node: Node, run: QueryRun) -> Dense:
        """Every document's score for ``node``, and whether it matches."""
        if isinstance(node, Word):
            return self._word(node, run)
        if isinstance(node, Phrase):
            return self._phrase(node, run)
        if isinstance(node, Either):
            scores = np.zeros(self.segments.doc_count_all)
            mask = np.zeros(self.segments.doc_count_all, dtype=bool)
            for clause in node.clauses:
                values, matches = self.evaluate(clause, run)
                scores += values
                mask |= matches
            return scores, mask
        return self._group(node, run)

    def _word(self, word: Word, run: QueryRun) -> Dense:
        key = word_key(word)
        cached = run.vectors.get(key)
        if cached is None:
            expansions = self.expander.expansions_once(word, run)
            cached = run.vectors[key] = (expansions, self.word_scores(word, expansions))
        expansions, (ids, values) = cached
        run.expansions[word.text] = [t for t, _ in expansions]
        n = self.segments.doc_count_all
        scores = np.zeros(n)
        scores[ids] = values
        mask = np.zeros(n, dtype=bool)
        mask[ids] = True
        run.record(word, expansions, _Members(mask))
        return scores, mask

    def _phrase(self, phrase: Phrase, run: QueryRun) -> Dense:
        n = self.segments.doc_count_all
        mask = np.zeros(n, dtype=bool)

        def members(docs: np.ndarray) -> _Members:
            mask[docs] = True
            return _Members(mask)

        docs, total = self.phrase_scores(phrase, run, members)
        scores = np.zeros(n)
        scores[docs] = total
        return scores, mask

    def phrase_scores(
        self, phrase: Phrase, run: QueryRun, members: Callable[[np.ndarray], Any],
    ) -> tuple[np.ndarray, np.ndarray]:
        """The phrase's documents (ascending), each scoring the sum of the phrase's words'
        scores; ``members(documents)`` is what the run notes its words' terms matched in."""
        docs = self.segments.phrase_docs([w.term for w in phrase.words], phrase.slop, phrase.fields)
        total = np.zeros(len(docs))
        held = members(docs)
        for word in phrase.words:
            expansions = [(word.term, 1.0)]
            ids, values = self.word_scores(word, expansions)
            total = total + values_at(ids, values, docs)
            run.record(word, expansions, held)
        return docs, total

    def _group(self, group: Group, run: QueryRun) -> Dense:
        result: Dense | None = None
        for clause in group.must:
            scores, mask = self.evaluate(clause, run)
            if result is None:
                result = (scores.copy(), mask.copy())
            else:
                result = (result[0] + scores, result[1] & mask)
        clauses, minor = split_question_words(distinct(group.should))
        should = [self.evaluate(clause, run) for clause in clauses]
        if minor and not group.must and not any(mask.any() for _s, mask in should):
            # Nothing but the question words matches: they are all the query has.
            clauses = clauses + minor
            should += [self.evaluate(clause, run) for clause in clauses[len(should):]]
        if result is None:
            if should:
                result = self._free_words(clauses, should, run)
            else:  # only exclusions: every document but those
                result = (np.zeros(self.segments.doc_count_all), self.segments.live().copy())
        else:
            for scores, _mask in should:
                result = (result[0] + scores, result[1])
        scores, mask = result
        for clause in group.must_not:
            mask = mask & ~self.evaluate(clause, run)[1]
        scores[~mask] = 0.0
        return scores, mask

    def _free_words(self, clauses: list[Node], should: list[Dense], run: QueryRun) -> Dense:
        """Free words combined: any of them; the sum of each document's clause scores (added
        in the query's order), plus the proximity bonus, times its coordination factor."""
        sums = should[0][0].copy()
        mask = should[0][1].copy()
        for scores, matches in should[1:]:
            sums += scores
            mask |= matches
        docs = np.flatnonzero(mask)
        masses = [self.clause_idf(clause, run) for clause in clauses]
        factors = None
        at_docs = self.coordination([matches[docs] for _scores, matches in should], masses)
        if at_docs is not None:
            factors = np.zeros(self.segments.doc_count_all)
            factors[docs] = at_docs
        if self.options.proximity_weight > 0 and len(clauses) > 1:
            ranked = sums if factors is None else sums * factors
            within: np.ndarray | None = None
            if len(docs) > PROXIMITY_DEPTH:
                within = np.sort(top(ranked, docs, PROXIMITY_DEPTH)[0])
            Proximity(self.segments, self.options, run, within).add_bonus(
                clauses, [values for values, _mask in should], [bool(mask.any()) for _values, mask in should], masses, sums,
            )
        return (sums if factors is None else sums * factors), mask

    def clause_idf(self, clause: Node, run: QueryRun) -> float:
        """What a free clause weighs in coordination: the idf of its words, added up.

        A word counts the idf of its best expansion (a typo's spellings weigh
        ``expansion_weight``); a word the index does not have counts nothing.
        """
        if isinstance(clause, Word):
            words = [(clause, run.expanded.get(word_key(clause)) or [(clause.term, 1.0)])]
        else:
            words = [(w, [(w.term, 1.0)]) for w in words_of(clause)]
        total = 0.0
        for word, expansions in words:
            best = 0.0
            for term, weight in expansions:
                df = self.segments.df(term, word.fields)
                if df:
                    best = max(best, weight * self.idf(df))
            total += best
        return total

    def coordination(self, matched: list[np.ndarray], masses: list[float]) -> np.ndarray | None:
        """The coordination factor of some documents, from the set of free clauses each has
        (``matched``: one array a clause, whether each document has it); None when there is
        none to apply."""
        n = sum(masses)
        p = self.options.coordination
        if len(matched) < 2 or n <= 0 or not p:
            return None
        count = len(matched[0])
        # The power is taken in Python, once per set of matched words (numpy's may round
        # differently from one version to the next).
        if len(matched) <= 16:
            sets = np.zeros(count, dtype=np.int64)
            for i, matches in enumerate(matched):
                sets |= matches.astype(np.int64) << i
            found = np.flatnonzero(np.bincount(sets, minlength=1 << len(matched)))
            table = np.zeros(1 << len(matched))
            for s in found.tolist():
                held = 0.0
                for i, mass in enumerate(masses):  # added in the query's order
                    if s >> i & 1:
                        held += mass
                table[s] = pow(held / n, p)
            return table[sets]
        # A long query: the distinct shares of the documents.
        matched_all = np.zeros(count)
        for matches, mass in zip(matched, masses):
            matched_all += matches * mass
        order = np.argsort(matched_all, kind="stable")
        ordered = matched_all[order]
        shares = distinct_sorted(ordered)
        table = np.array([pow(x / n, p) for x in shares.tolist()])
        factors = np.empty(count)
        factors[order] = table[np.searchsorted(shares, ordered)]
        return factors

    # -- pseudo-relevance feedback ----------------------------------------------------------

    def feedback_reorders(self, count: int) -> bool:
        """Whether feedback may reorder the best ``count`` hits (see SearchOptions)."""
        opts = self.options
        return (
            opts.feedback_docs > 0 and opts.feedback_terms > 0 and opts.feedback_weight > 0
            and count > FEEDBACK_AFTER
        )

    def feedback(
        self, best: list[tuple[int, float]], found: np.ndarray, docs: np.ndarray, run: QueryRun,
    ) -> list[tuple[int, float]]:
        """``best`` (the best hits by score) with the hits past FEEDBACK_AFTER ordered by
        score plus feedback (see SearchOptions). ``found`` holds the query's scores of the
        matching ``docs`` (ascending); each hit keeps its own score."""
        if not (self.feedback_reorders(len(best)) and best[0][1] > 0):
            return best
        opts = self.options
        head = best[:FEEDBACK_AFTER]
        terms = self._feedback_terms([d for d, _s in head[: opts.feedback_docs]], found, run)
        if not terms:
            return best
        extra = np.zeros(self.segments.doc_count_all)
        for term, weight in terms:
            ids, values = self.word_scores(Word(term, term), [(term, 1.0)])
            extra[ids] += weight * values
        peak = float(extra[docs].max())
        if peak <= 0:
            return best
        run.feedback = [t for t, _w in terms]
        fused = found / head[0][1] + extra * (opts.feedback_weight / peak)
        rest = np.ones(len(docs), dtype=bool)
        rest[np.searchsorted(docs, [d for d, _s in head])] = False
        later, _values = top(fused, docs[rest], len(best) - len(head))
        return head + [(d, float(found[d])) for d in later.tolist()]

    def _feedback_terms(self, docnums: list[int], found: np.ndarray, run: QueryRun) -> Expansions:
        """The terms that best characterise ``docnums`` (the best hits), with weights adding
        up to 1: each document gives its terms' shares of its length (a title word counts
        the title's field weight), in proportion to its score; the query's own terms, and
        terms found in one document only or in more than FEEDBACK_MAX_SHARE of them, are
        left out."""
        opts = self.options
        own = set(run.term_words())
        own.update(w.term for w in words_of(run.root, positive_only=False))
        best = float(found[docnums[0]])
        weights: dict[str, float] = {}
        for d in docnums:
            stored = self.segments.stored(d)
            counts: dict[str, float] = {}
            for name in FIELDS:
                times = opts.weights.get(name, 1.0)
                for term, count in term_counts((stored.get(name) or "")[:FEEDBACK_CHARS]).items():
                    counts[term] = counts.get(term, 0.0) + times * count
            length = sum(counts.values())
            if not length:
                continue
            share = float(found[d]) / best / length
            for term, count in counts.items():
                if term not in own:
                    weights[term] = weights.get(term, 0.0) + share * count
        most = FEEDBACK_MAX_SHARE * self.segments.doc_count
        chosen: Expansions = []
        for term, weight in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])):
            if 2 <= self.segments.df(term, FIELDS) <= most:
                chosen.append((term, weight))
                if len(chosen) == opts.feedback_terms:
                    break
        total = sum(w for _t, w in chosen)
        return [(t, w / total) for t, w in chosen]


def split_question_words(should: list[Node]) -> tuple[list[Node], list[Node]]:
    """Free clauses split into those that matter and question words (see QUESTION_WORDS)."""
    minor = [c for c in should if isinstance(c, Word) and c.plain and (c.folded or c.term) in QUESTION_WORDS]
    if not minor or len(minor) == len(should):
        return should, []
    return [c for c in should if not any(c is m for m in minor)], minor


def values_at(ids: np.ndarray, values: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """The values of ``docs`` (0 for those not in ``ids``, which is ascending)."""
    return values_and_presence(ids, values, docs)[0]


def values_and_presence(ids: np.ndarray, values: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """values_at(), and whether each of ``docs`` is in ``ids``."""
    if not len(ids) or not len(docs):
        return np.zeros(len(docs)), np.zeros(len(docs), dtype=bool)
    at, has = locate(ids, docs)
    return np.where(has, values[at], 0.0), has


def lists_at(lists: Sequence[tuple[np.ndarray, np.ndarray]], docs: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """values_and_presence() of each (ids, values) list at the same ``docs`` (ascending).

    A list with few documents in the range of ``docs`` (at most MAPPED_LOOKUP times as
    many) finds them in a map from document to place in ``docs``, built once for all the
    lists; the others search ``docs`` in their documents (for 79,000 documents and a list of
    70,000, 0.65 against 2.6 ms; a search wins when the list is far longer than ``docs``).
    """
    if len(docs) < MAPPED_MIN_DOCS:
        return [values_and_presence(ids, values, docs) for ids, values in lists]
    low, high = int(docs[0]), int(docs[-1])
    places: np.ndarray | None = None
    out = []
    for ids, values in lists:
        start, stop = np.searchsorted(ids, (low, high + 1)).tolist() if len(ids) else (0, 0)
        if stop - start > MAPPED_LOOKUP * len(docs):
            out.append(values_and_presence(ids, values, docs))
            continue
        if places is None:
            places = np.full(high - low + 1, -1, dtype=np.int32)
            places[docs - low] = np.arange(len(docs), dtype=np.int32)
        at = places[ids[start:stop] - low]
        kept = at >= 0
        at = at[kept]
        found = np.zeros(len(docs))
        found[at] = values[start:stop][kept]
        has = np.zeros(len(docs), dtype=bool)
        has[at] = True
        out.append((found, has))
    return out


def _bm25(factor: float, tfs: np.ndarray, saturations: np.ndarray) -> np.ndarray:
    """``factor * tfs / (tfs + saturations)``, computed in place in ``saturations`` and one new
    array (the same values to the last bit: a sum or a product of two values is the same in
    either order)."""
    saturations += tfs
    out = tfs * factor
    out /= saturations
    return out


def _sparse_word(terms: list[list[tuple[np.ndarray, np.ndarray]]]) -> tuple[np.ndarray, np.ndarray]:
    """As Scorer._dense_word, by merging the lists: the same values to the last bit (each
    term's fields added in the same order, a term's score 0 where the term is missing)."""
    per_term = [_merged(parts, np.add)[:2] for parts in terms]
    if len(per_term) == 1:
        return per_term[0]
    ids, values, counts = _merged(per_term, np.maximum)
    missing = counts < len(per_term)
    values[missing] = np.maximum(values[missing], 0.0)
    return ids, values


def _merged(parts: list[tuple[np.ndarray, np.ndarray]], combine: np.ufunc) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The documents of ascending lists, each once, with their values combined by ``combine``
    in the lists' order, and in how many lists each is."""
    if len(parts) == 1:
        ids, values = parts[0]
        return ids, values, np.ones(len(ids), dtype=np.int64)
    ids = np.concatenate([ids for ids, _values in parts])
    order = np.argsort(ids, kind="stable")  # a document's values in the lists' order
    ids = ids[order]
    values = np.concatenate([values for _ids, values in parts])[order]
    starts = run_starts(ids)
    return ids[starts], combine.reduceat(values, starts), np.diff(starts, append=len(ids))
