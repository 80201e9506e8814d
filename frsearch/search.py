"""Search: the facade that strings the search core together.

``Engine.search`` parses the query (frsearch.query), adds the user's synonyms, evaluates
the tree into a score for every document (frsearch.ranking, with frsearch.expand for the
terms each word stands for and frsearch.proximity for the bonuses), filters and orders the
matching documents, orders the hits past the first page by feedback, and makes each hit's
snippet (frsearch.snippets) and the suggested spelling. An Engine is bound to one committed
state of an index (frsearch.segments); the Index facade makes a new one after each commit.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from frsearch.errors import QueryError
from frsearch.expand import MAX_CORRECTED_WORDS, Expander, osa_distance
from frsearch.paths import nfc
from frsearch.query import FIELDS, Either, Group, ParsedQuery, Phrase, Word, parse_query
from frsearch.pruning import PRUNE_MIN_DOCS, Pruner
from frsearch.ranking import PROXIMITY_DEPTH, QUESTION_WORDS, QueryRun, Scorer, SearchOptions, top
from frsearch.segments import Segments
from frsearch.snippets import COUNTED_SPANS_CHARS, Highlighting, Snippet, highlighting, make_snippet, word_matches

__all__ = [
    "QUESTION_WORDS",
    "Either",
    "Engine",
    "Group",
    "Hit",
    "ParsedQuery",
    "Phrase",
    "SearchOptions",
    "SearchResults",
    "Snippet",
    "Word",
    "make_snippet",
    "osa_distance",
    "parse_query",
]

SORT_ORDERS = ("score", "path", "mtime")


@dataclass
class Hit:
    """One search result."""

    id: str
    title: str
    score: float
    rank: int
    path: str | None = None
    snippet: Snippet | None = None
    title_spans: list[tuple[int, int]] = field(default_factory=list)
    matched_terms: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    mtime: float | None = None
    size: int | None = None
    docnum: int = -1
    #: The page the snippet is taken from (documents with pages: PDF), else None.
    page: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rank": self.rank,
            "id": self.id,
            "path": self.path,
            "title": self.title,
            "title_spans": [list(s) for s in self.title_spans],
            "score": round(self.score, 4),
            "snippet": self.snippet.text if self.snippet else None,
            "spans": [list(s) for s in self.snippet.spans] if self.snippet else [],
            "matched_terms": self.matched_terms,
            "page": self.page,
        }
        if self.fields:
            out["fields"] = self.fields
        return out


@dataclass
class SearchResults:
    """The hits of one page of results, with the total number of matching documents."""

    query: ParsedQuery
    hits: list[Hit]
    total: int
    offset: int = 0
    expansions: dict[str, list[str]] = field(default_factory=dict)
    #: A corrected query built from words of the index, written as in the documents.
    suggestion: str | None = None
    #: The terms that ordered the hits past the first page with the query's own words (see
    #: SearchOptions.feedback_docs); empty when feedback did not run.
    feedback: list[str] = field(default_factory=list)

    def explain(self) -> list[str]:
        """How the query was understood: its structure, each word's term and expansions."""
        lines = [f"query: {self.query.describe()}"]
        for word in self.query.words(positive_only=False):
            terms = self.expansions.get(word.text)
            how = "" if word.fields == FIELDS else f" (in {word.fields[0]} only)"
            if word.prefix:
                how += " prefix"
            elif word.fuzzy:
                how += f" fuzzy, up to {word.fuzzy} edit(s)"
            shown = ", ".join((terms or [])[:12]) + (" …" if terms and len(terms) > 12 else "")
            if terms is None or terms == [word.term]:
                found = ""
            elif not terms:
                found = ": not in the index"
            elif word.prefix or word.fuzzy:
                found = f": matches {shown}"
            else:
                found = f": not in the index, searched as close spellings {shown}"
            lines.append(f"  {word.text} -> {word.term}{how}{found}")
        lines.extend(f"  note: {note}" for note in self.query.notes)
        if self.feedback:
            lines.append(
                "  later hits also ranked by terms of the best ones (feedback): "
                + ", ".join(self.feedback)
            )
        return lines

    def as_dict(self, explain: bool = False) -> dict[str, Any]:
        """The results as plain data: what ``frsearch query --json`` prints.

        ``total`` counts every matching document (hits are one page of them,
        from ``offset``); ``suggestion`` is a corrected query or None; ``notes``
        say what of the query was ignored or read otherwise; ``explain`` (when
        asked) is how the query was read, line by line.
        """
        out: dict[str, Any] = {
            "query": self.query.text,
            "total": self.total,
            "offset": self.offset,
            "count": len(self.hits),
            "suggestion": self.suggestion,
            "notes": list(self.query.notes),
            "feedback": list(self.feedback),
        }
        if explain:
            out["explain"] = self.explain()
        out["hits"] = [hit.as_dict() for hit in self.hits]
        return out

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, i: int) -> Hit:
        return self.hits[i]


class Engine:
    """Runs queries on one committed state of an index (a Whoosh searcher)."""

    def __init__(self, searcher: Any, options: SearchOptions | None = None) -> None:
        self.segments = Segments(searcher)
        self.searcher = searcher
        self.reader = self.segments.reader
        self.expander = Expander(self.segments, options or SearchOptions())
        self.options = options or SearchOptions()
        #: Whether a page of hits by score comes from the pruned evaluation
        #: (frsearch.pruning), which gives the same hits and scores as scoring every
        #: matching document: None (the default) when the index has PRUNE_MIN_DOCS
        #: documents or more; True or False to choose (tests and benchmarks compare both).
        self.prune: bool | None = None

    @property
    def options(self) -> SearchOptions:
        return self._options

    @options.setter
    def options(self, value: SearchOptions) -> None:
        self._options = value
        self.expander.set_options(value)
        self.scorer = Scorer(self.segments, value, self.expander)

    def close(self) -> None:
        """Close the files of the posting arrays (the searcher is its owner's to close)."""
        self.segments.close()

    def search(
        self,
        query: str | ParsedQuery,
        limit: int = 10,
        offset: int = 0,
        snippets: bool = True,
        fragments: int = 3,
        fragment_chars: int = 180,
        suggest: bool = True,
        under: str | None = None,
        glob: str | None = None,
        sort: str = "score",
        synonyms: Any = None,
    ) -> SearchResults:
        """Run a query; return one page of ranked hits with highlighted snippets.

        ``suggest`` looks for a corrected query when some words are not in the
        index (``results.suggestion``). ``under`` and ``glob`` keep only files
        under a folder or matching a pattern; ``sort`` orders hits by
        ``"score"`` (best first), ``"path"`` or ``"mtime"`` (newest first).
        ``synonyms`` (a :class:`frsearch.Synonyms`) adds the alternatives of
        its rules to the query's words.
        Searching is safe from several threads: searches on one engine run one
        at a time.
        """
        parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
        if limit < 0 or offset < 0:
            raise QueryError("limit and offset must not be negative")
        if sort not in SORT_ORDERS:
            raise QueryError(f"unknown sort order {sort!r}: use score, path or mtime")
        expanded = synonyms.expand(parsed) if synonyms else parsed
        if expanded.root is None:  # parse_query refuses it; a ParsedQuery made by hand may not
            raise QueryError("nothing to search: the query is empty")
        with self.segments.lock:
            page = offset + limit
            best = None
            prune = self.segments.doc_count_all >= PRUNE_MIN_DOCS if self.prune is None else self.prune
            if prune and sort == "score" and under is None and glob is None and self._prunable(page):
                best = self._best(expanded, page)
                if best is not None and not best[2] and best[0].held_back:
                    best = self._best(expanded, page, lenient=True)
            if best is not None:
                run, ranked, total = best
                ranked = ranked[offset:]
            else:
                run, found, docs = self._matching(expanded, under, glob)
                if not len(docs) and run.held_back:
                    # Nothing found with the words that were meant taken as written: search their
                    # close spellings too rather than nothing.
                    run, found, docs = self._matching(expanded, under, glob, lenient=True)
                total = len(docs)
                if sort == "score":
                    best_docs, values = top(found, docs, page) if page else (docs[:0], found[:0])
                    ranked = list(zip(best_docs.tolist(), values.tolist()))
                    ranked = self.scorer.feedback(ranked, found, docs, run)[offset:]
                else:
                    ranked = self._sorted(docs, found, sort)[offset:page]
            marks = highlighting(run.root, run.expansions) if snippets and ranked else None
            hits = [
                self._hit(docnum, score, rank, run, marks, fragments, fragment_chars)
                for rank, (docnum, score) in enumerate(ranked, offset + 1)
            ]
            # Spelling help is for the words as typed, not for a synonym's.
            suggestion = self.expander.suggest(parsed) if suggest else None
            return SearchResults(expanded, hits, total, offset, run.expansions, suggestion, run.feedback)

    def _prunable(self, page: int) -> bool:
        """Whether a page ending at ``page`` can come from the pruned evaluation: one that
        feedback would reorder needs every document's score."""
        return 0 < page <= PROXIMITY_DEPTH and not self.scorer.feedback_reorders(page)

    def _best(self, parsed: ParsedQuery, k: int, lenient: bool = False) -> tuple[QueryRun, list[tuple[int, float]], int] | None:
        """The query's run, its ``k`` best documents with their scores and the number of
        matching documents, from the pruned evaluation; None where it is left to the
        exhaustive one."""
        run = _new_run(parsed, lenient)
        assert parsed.root is not None
        found = Pruner(self.scorer, run).best(parsed.root, k)
        return None if found is None else (run, found[0], found[1])

    def _matching(
        self, parsed: ParsedQuery, under: str | None, glob: str | None, lenient: bool = False,
    ) -> tuple[QueryRun, np.ndarray, np.ndarray]:
        """The query's run, every document's score, and the matching documents (ascending)
        among those the filters keep."""
        run = _new_run(parsed, lenient)
        assert parsed.root is not None
        found, mask = self.scorer.evaluate(parsed.root, run)
        docs = np.flatnonzero(mask)
        if under is not None or glob is not None:
            docs = self._filtered(docs, under, glob)
        return run, found, docs

    # -- filters and orders -----------------------------------------------------------

    def _filtered(self, docs: np.ndarray, under: str | None, glob: str | None) -> np.ndarray:
        """The documents among ``docs`` whose file is under a folder and/or matches a glob.

        ``under`` is compared with absolute paths; a ``glob`` without ``/``
        matches the file name, one with ``/`` the path as it was given.
        """
        ids = self.segments.column("id")
        paths = self.segments.column("path")
        root = nfc(os.path.join(os.path.abspath(under), "")) if under else None
        glob = nfc(glob) if glob is not None else None
        keep = []
        for docnum in docs.tolist():
            path = paths[docnum]
            if not path:
                continue  # a document added from the library, not a file
            if root is not None and not nfc(ids[docnum]).startswith(root):
                continue
            if glob is not None:
                target = nfc(path if "/" in glob else os.path.basename(path))
                if not fnmatch.fnmatchcase(target, glob):
                    continue
            keep.append(docnum)
        return np.array(keep, dtype=np.int64)

    def _sorted(self, docs: np.ndarray, found: np.ndarray, sort: str) -> list[tuple[int, float]]:
        """(document, score) of ``docs`` by path, or newest first (``sort``), then document number."""
        pairs = list(zip(docs.tolist(), found[docs].tolist()))
        if sort == "path":
            paths = self.segments.column("path")
            ids = self.segments.column("id")
            return sorted(pairs, key=lambda kv: (paths[kv[0]] or ids[kv[0]], kv[0]))
        return sorted(pairs, key=lambda kv: (-self.mtime_ns(kv[0]), kv[0]))

    def mtime_ns(self, docnum: int) -> int:
        """Modification time of an indexed file (0 for library documents)."""
        signature = self.segments.column("signature")[docnum]
        return int(signature.split(" ", 1)[0]) if signature else 0

    # -- hits ---------------------------------------------------------------------

    def _hit(
        self, docnum: int, score: float, rank: int, run: QueryRun,
        marks: Highlighting | None, fragments: int, fragment_chars: int,
    ) -> Hit:
        """One hit, with its snippet and highlights when ``marks`` (the query's phrases) are given."""
        stored = self.segments.stored(docnum)
        terms = sorted(run.terms_in(docnum))
        title = stored.get("title") or ""
        hit = Hit(
            id=stored.get("id", ""),
            title=title,
            score=score,
            rank=rank,
            path=stored.get("path"),
            matched_terms=terms,
            fields=stored.get("fields") or {},
            mtime=stored.get("mtime"),
            size=stored.get("size"),
            docnum=docnum,
        )
        if marks is not None:
            termset = set(terms)
            hit.title_spans = [(s, e) for s, e, _t in word_matches(title, termset, marks=marks)]
            body = stored.get("body") or ""
            counts = None
            if len(body) > COUNTED_SPANS_CHARS:
                counts = {t: len(self.segments.positions("body", t, docnum)) for t in termset}
            pages = stored.get("pages")
            if pages:  # the snippet comes from one page, which the hit names
                from frsearch.pages import choose_page

                hit.page, lo, hi = choose_page(pages, len(body), word_matches(body, termset, counts, marks))
                body, counts = body[lo:hi], None
            hit.snippet = make_snippet(body, termset, fragments, fragment_chars, counts, run.term_words(), marks)
        return hit


def _new_run(parsed: ParsedQuery, lenient: bool) -> QueryRun:
    """A run of the query, with the typo budget of a query."""
    run = QueryRun(parsed.root, lenient)
    run.typo_budget = MAX_CORRECTED_WORDS
    return run
