"""Word expansion: the index terms a query word stands for, and spelling help.

- An indexed word stands for its own term and its most frequent related form (Snowball
  stems some words of one family apart: *démission* "demiss", *démissionner* "demission").
- ``word*`` stands for the indexed terms it begins, ``word~N`` for those within N edits.
- A word the index does not have stands for up to three close spellings of indexed words
  (typo tolerance), preferring those found with the query's other words.
- :meth:`Expander.suggest` gives the "did you mean" query: the query as typed with its
  mistyped words corrected (frsearch.spelling decides which words are mistyped).
- Words that were meant (a French word, an acronym, a number, a question word) keep only the
  close spellings frsearch.spelling allows, unless the query finds nothing without the others.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Sequence

import numpy as np

from frsearch import spelling
from frsearch.analysis import analyze, stem
from frsearch.query import FIELDS, ParsedQuery, Word, word_key
from frsearch.ranking import QUESTION_WORDS, SearchOptions, idf
from frsearch.segments import BoundedCache, Segments

if TYPE_CHECKING:
    from frsearch.ranking import QueryRun

__all__ = ["Expander", "osa_distance"]

#: Terms a prefix or fuzzy word stands for, at most.
MAX_EXPANSIONS = 64
#: Unknown words looked up for close spellings, per query (the first ones).
MAX_CORRECTED_WORDS = 8
#: Words whose related forms or close spellings an engine keeps between searches.
MAX_CACHED_WORDS = 65_536
#: Words longer than this are not corrected (no French word is that long).
MAX_CORRECTED_LENGTH = 30
#: Close spellings an unknown word stands for (tuned on both test collections).
TYPO_CANDIDATES = 3
#: Did-you-mean looks for a word as typed in this many documents with its term, at most.
WRITTEN_DOCS = 200
#: How a word is written is looked for in this many documents with its term, at most.
SURFACE_DOCS = 20
#: Related forms: the most frequent RELATED_LIMIT indexed terms that extend a word's term
#: by at most RELATED_LETTERS letters, or that it extends; terms shorter than
#: RELATED_MIN_LENGTH are left alone (tuned on both test collections, see benchmarks/README.md).
RELATED_LETTERS = 3
RELATED_MIN_LENGTH = 5
RELATED_LIMIT = 1

Expansions = list[tuple[str, float]]


class Expander:
    """Expands the words of queries on one committed state of an index."""

    def __init__(self, segments: Segments, options: SearchOptions) -> None:
        self.segments = segments
        self._corrections = BoundedCache(MAX_CACHED_WORDS)  # word and context -> close spellings
        self._close = BoundedCache(MAX_CACHED_WORDS)  # word -> close terms (see _close_terms)
        #: (term, word folded) -> whether the documents with the term write the word.
        self.written = BoundedCache(MAX_CACHED_WORDS)
        self.set_options(options)

    def set_options(self, options: SearchOptions) -> None:
        self.options = options
        self._related = BoundedCache(MAX_CACHED_WORDS)  # (term, fields) -> related forms

    def expansions(self, word: Word, run: QueryRun | None = None) -> Expansions:
        """The index terms a word stands for, each with a weight.

        The query's other words (``run``) help choose between close spellings
        of an unknown word; only the first few unknown words of a query are
        looked up.
        """
        fields = word.fields
        if word.prefix:
            return self._prefix_terms(word, fields)
        if word.fuzzy:
            return self._fuzzy_terms(word, word.fuzzy, fields)
        if self.segments.has_term(word.term, fields):
            found = [(word.term, 1.0)]
            if self.options.related_forms:
                found += self._related_terms(word, fields)
            return found
        if self.options.typo_tolerance:
            if run is None:
                return self._typo_terms(word, fields)
            run.typo_budget -= 1
            found = self._typo_terms(word, fields, run.context_terms(self.segments)) if run.typo_budget >= 0 else []
            if not run.lenient:
                # Only the spellings the word may stand for, unless the query finds nothing
                # without the others (see Engine.search).
                kept = set(spelling.close_spellings_kept(
                    word.text, word.folded or word.term, word.term, [t for t, _ in found], QUESTION_WORDS))
                run.held_back = run.held_back or len(kept) < len(found)
                found = [(t, w) for t, w in found if t in kept]
            return found
        return []

    def expansions_once(self, word: Word, run: QueryRun) -> Expansions:
        """A word's expansions, looked up once per query (a typo's use the query's budget)."""
        key = word_key(word)
        found = run.expanded.get(key)
        if found is None:
            found = run.expanded[key] = self.expansions(word, run)
        return found

    # -- related forms, prefixes, fuzzy words ------------------------------------------

    def _related_terms(self, word: Word, fields: Sequence[str]) -> Expansions:
        """Indexed terms of the same word family as an indexed word, looked up once per
        engine and set of options."""
        key = (word.term, tuple(fields))
        found = self._related.get(key)
        if found is None:
            found = self._find_related_terms(word.term, fields)
            with self.segments.lock:
                self._related.put(key, found)
        return found

    def _find_related_terms(self, term: str, fields: Sequence[str]) -> Expansions:
        if len(term) < RELATED_MIN_LENGTH or not term.isalpha():
            return []
        segments = self.segments
        candidates: set[str] = set()
        for f in fields:
            candidates.update(t for t in segments.terms_with_prefix(f, term) if len(t) - len(term) <= RELATED_LETTERS)
        for cut in range(1, RELATED_LETTERS + 1):
            shorter = term[:-cut]
            if len(shorter) < RELATED_MIN_LENGTH:
                break
            if segments.has_term(shorter, fields):
                candidates.add(shorter)
        candidates.discard(term)
        found = {t: segments.frequency(t, fields) for t in candidates}
        best = heapq.nlargest(RELATED_LIMIT, found.items(), key=lambda kv: (kv[1], kv[0]))
        # A related term rarer than the word counts the word's idf, not its own (a rare stem
        # such as "contr" next to "contrat" would otherwise outweigh the word itself): the
        # scorer weighs each term by weight * idf, so the product is at most related_weight
        # times the word's own idf.
        weight = self.options.related_weight
        own = self._idf(term, fields)
        out = []
        for t, _ in best:
            its = self._idf(t, fields)
            out.append((t, weight * min(1.0, own / its) if its > 0 else 0.0))
        return out

    def _idf(self, term: str, fields: Sequence[str]) -> float:
        return idf(self.segments.df(term, fields), self.segments.doc_count, self.options.idf_exponent)

    def _prefix_terms(self, word: Word, fields: Sequence[str]) -> Expansions:
        prefix = word.folded or word.term
        found: dict[str, int] = {}
        for f in fields:
            for term in self.segments.terms_with_prefix(f, prefix):
                found[term] = found.get(term, 0) + self.segments.reader.doc_frequency(f, term)
                if len(found) > 10 * MAX_EXPANSIONS:
                    break
        stemmed = stem(prefix)
        if stemmed != prefix and self.segments.has_term(stemmed, fields):
            found.setdefault(stemmed, 1)
        best = heapq.nlargest(MAX_EXPANSIONS, found.items(), key=lambda kv: kv[1])
        return [(term, 1.0) for term, _ in best]

    def _fuzzy_terms(self, word: Word, distance: int, fields: Sequence[str]) -> Expansions:
        found: dict[str, float] = {}
        for source in {word.term, word.folded or word.term}:
            for f in fields:
                for term in self.segments.terms_within(f, source, distance, prefix=0):
                    weight = 1.0 if term == word.term else self.options.expansion_weight
                    found[term] = max(found.get(term, 0.0), weight)
        ranked = sorted(found.items(), key=lambda kv: -kv[1])
        return ranked[:MAX_EXPANSIONS]

    def _typo_terms(self, word: Word, fields: Sequence[str], context: Sequence[str] = ()) -> Expansions:
        """Close spellings of indexed words, for a word the index does not have."""
        found = self.corrections(word, limit=TYPO_CANDIDATES, context=context)
        return [(term, self.options.expansion_weight) for term in found]

    # -- spelling ---------------------------------------------------------------------

    def corrections(self, word: Word, limit: int = 3, context: Sequence[str] = ()) -> list[str]:
        """Indexed terms closest to a word the index does not have, best first.

        Candidates are the stems of one-edit variants of the word as typed
        (so ``electrqiues`` finds the stem of ``électriques``) and indexed terms
        within one or two edits of its stem. A swap of two neighbouring letters
        counts as one edit (``unsi`` -> ``unis``). Among equally close
        candidates, those found in more documents with the ``context`` terms
        win, then those in more documents.
        """
        source = word.folded or word.term
        if len(source) < 3 or len(source) > MAX_CORRECTED_LENGTH or source[0].isdigit():
            return []
        key = (word.term, source, word.fields, tuple(context), limit)
        cached = self._corrections.get(key)
        if cached is not None:
            return cached
        segments = self.segments
        distances, frequency, shortlist = self._close_terms(word.term, source, word.fields)
        seen: np.ndarray | None = None  # the documents with a context term
        if len(shortlist) > 1 and context:
            seen = np.zeros(segments.doc_count_all, dtype=bool)
            for term in context:
                for ids, _tfs in segments.term_vectors(term, word.fields).fields.values():
                    seen[ids] = True

        def rank(term: str) -> tuple[int, int, int, str]:
            together = 0
            if seen is not None:
                together = int(np.count_nonzero(seen[segments.term_docs(term, word.fields)]))
            return (distances[term], -together, -frequency[term], term)

        found = sorted(shortlist, key=rank)[:limit]
        with segments.lock:
            self._corrections.put(key, found)
        return found

    def _close_terms(
        self, term: str, source: str, fields: tuple[str, ...]
    ) -> tuple[dict[str, int], dict[str, int], list[str]]:
        """The indexed terms close to a word (see corrections): their edit distances, their
        document frequencies, and the few closest and most frequent (looked up once per
        word: the query's spelling help and its suggestion both ask)."""
        key = (term, source, fields)
        found = self._close.get(key)
        if found is not None:
            return found
        segments = self.segments
        reach = 1 if len(source) < 5 else 2
        distances: dict[str, int] = {}
        for variant in spelling.edits1(source):
            stemmed = stem(variant)
            if stemmed not in distances and segments.has_term(stemmed, fields):
                distances[stemmed] = 1
        for f in fields:
            for close in segments.terms_within(f, term, reach, prefix=1):
                distance = osa_distance(term, close)
                if distance <= reach and distance < distances.get(close, 99):
                    distances[close] = distance
        frequency = {t: segments.frequency(t, fields) for t in distances}
        # Only the few closest and most frequent are weighed against the context.
        shortlist = sorted(distances, key=lambda t: (distances[t], -frequency[t], t))[:10]
        found = (distances, frequency, shortlist)
        with segments.lock:
            self._close.put(key, found)
        return found

    def surface(self, terms: list[str], fields: Sequence[str] = FIELDS) -> str | None:
        """How consecutive ``terms`` are written in a document (``etat unis`` -> ``États-Unis``)."""
        if not terms:
            return None
        segments = self.segments
        if len(terms) == 1:
            docs = segments.term_docs(terms[0], fields, first=SURFACE_DOCS)
        else:
            docs = segments.phrase_docs(terms, 0, fields)
        for docnum in docs[:SURFACE_DOCS].tolist():
            stored = segments.stored(docnum)
            for name in ("title", "body"):
                text = stored.get(name) or ""
                words = analyze(text)
                for i in range(len(words) - len(terms) + 1):
                    if all(words[i + j].term == t for j, t in enumerate(terms)):
                        return text[words[i].start : words[i + len(terms) - 1].end]
        return None

    def suggest(self, parsed: ParsedQuery) -> str | None:
        """The query as typed with its mistyped words corrected, or None (see frsearch.spelling)."""
        searched = [w.text for w in parsed.words(positive_only=False) if w.plain]
        return spelling.suggest(parsed.text, searched, _Vocabulary(self), QUESTION_WORDS, MAX_CORRECTED_WORDS)


class _Vocabulary:
    """What spelling asks the index (a spelling.Vocabulary)."""

    def __init__(self, expander: Expander) -> None:
        self.expander = expander
        self.segments = expander.segments

    def doc_frequency(self, term: str) -> int:
        return self.segments.frequency(term, FIELDS)

    def writes(self, term: str, folded: str) -> bool:
        """Looked up once per engine (the documents read for it are the same each time)."""
        key = (term, folded)
        found = self.expander.written.get(key)
        if found is None:
            found = self._writes(term, folded)
            with self.segments.lock:
                self.expander.written.put(key, found)
        return found

    def _writes(self, term: str, folded: str) -> bool:
        forms = spelling.written_forms(folded)
        for docnum in self.segments.term_docs(term, FIELDS, first=WRITTEN_DOCS).tolist():
            stored = self.segments.stored(docnum)
            if any(spelling.writes_form(stored.get(name) or "", forms) for name in FIELDS):
                return True
        return False

    def written_near(self, term: str, folded: str) -> list[str]:
        found = self.expander.corrections(Word(term, folded, FIELDS, folded=folded), limit=1)
        return [form for form in map(self.expander.surface, ([t] for t in found)) if form]


def osa_distance(a: str, b: str) -> int:
    """Edit distance where inserting, deleting, replacing or swapping two neighbours costs one."""
    if a == b:
        return 0
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
