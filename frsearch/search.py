"""Query parsing, ranking and snippets.

Query syntax (English and French operators)::

    xiaomi facebook          free words: documents with all the words rank first
    "lei jun" / "lei jun"~2  phrase; ~N lets up to N other words in between
    a AND b, a ET b, +a      required
    a OR b, a OU b           either
    NOT a, SAUF a, -a        excluded
    ( ... )                  grouping
    title:word, titre:word   one field (title/titre, body/texte/contenu)
    smart*                   prefix (two letters at least)
    xiaomy~, xiaomy~2        fuzzy: up to 1 (or N) edits

Every word goes through the same French analyzer as the documents. Ranking is
BM25 per field (title weighted higher, idf raised to a power) added up, or BM25F
(``field_mode``). Free words are combined with OR and a coordination factor, so
documents that contain more of the words (weighed by their idf) rank higher;
consecutive query words found next to each other earn a proximity bonus (three
in a row earn more); a hyphenated word finds its parts together or apart
(together scores higher);
question words (comment, quel, combien...) count only when nothing else is left;
and a word that exists nowhere is expanded to close spellings of indexed words
before it is given up.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
import fnmatch
import heapq
from itertools import compress, filterfalse, product, repeat
import math
from operator import add, mul, truediv
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np
from whoosh.util.numeric import byte_to_length, length_to_byte

from frsearch import spelling
from frsearch.analysis import LEGAL_REFERENCE, SPACED_ORDINAL, analyze, counted_spans, matched_spans, stem, term_counts
from frsearch.errors import QueryError
from frsearch.paths import nfc
from frsearch.postings import check_slices, open_arrays

__all__ = [
    "Engine",
    "Hit",
    "ParsedQuery",
    "SearchOptions",
    "SearchResults",
    "Snippet",
    "parse_query",
]

FIELDS = ("title", "body")
FIELD_ALIASES = {
    "title": "title",
    "titre": "title",
    "body": "body",
    "texte": "body",
    "text": "body",
    "contenu": "body",
    # Metadata of files (frsearch.documents): the author (sender of an e-mail) and the date.
    "author": "author",
    "auteur": "author",
    "date": "date",
}
MAX_QUERY_LENGTH = 2000
MAX_DEPTH = 32
MAX_EXPANSIONS = 64
MIN_PREFIX = 2
#: Wildcard and fuzzy words each scan the vocabulary: a query may hold this many.
MAX_EXPANDED_WORDS = 16
#: Unknown words looked up for close spellings, per query (the first ones).
MAX_CORRECTED_WORDS = 8
#: Postings (with their encoded positions) an engine keeps between searches.
MAX_CACHED_POSTINGS = 3_000_000
#: Texts longer than this are searched for a hit's terms with counted_spans.
COUNTED_SPANS_CHARS = 1000
#: Words whose related forms or close spellings an engine keeps between searches.
MAX_CACHED_WORDS = 65_536
#: Words longer than this are not corrected (no French word is that long).
MAX_CORRECTED_LENGTH = 30
#: Did-you-mean looks for a word as typed in this many documents with its term, at most.
WRITTEN_DOCS = 200
#: Feedback reads this many characters of each field of a document, at most.
FEEDBACK_CHARS = 4_000
#: A feedback term found in more than this share of the documents says too little.
FEEDBACK_MAX_SHARE = 0.1

#: Words that shape a question rather than say what it is about (folded forms).
#: They stay indexed, but a free query word from this list weighs
#: ``SearchOptions.question_word_weight`` and does not count for coordination,
#: unless the query has nothing else.
QUESTION_WORDS = frozenset(
    """
    comment quel quelle quels quelles quand combien pourquoi
    peut peux peuvent pouvoir pourrait pourraient
    doit dois doivent devoir devrait devraient
    faut falloir faudrait
    """.split()
)


# ---------------------------------------------------------------------------
# Query tree


@dataclass
class Word:
    """One analyzed word: its index term, how it was written, and how to expand it."""

    term: str
    text: str
    fields: tuple[str, ...] = FIELDS
    prefix: bool = False
    fuzzy: int = 0  # explicit edit distance (word~N)
    folded: str = ""

    def describe(self) -> str:
        where = "" if self.fields == FIELDS else f"{self.fields[0]}:"
        suffix = "*" if self.prefix else (f"~{self.fuzzy}" if self.fuzzy else "")
        return f"{where}{self.term}{suffix}"


@dataclass
class Phrase:
    """Consecutive words (``slop`` other words allowed between each)."""

    words: list[Word]
    slop: int = 0
    fields: tuple[str, ...] = FIELDS
    text: str = ""
    split: bool = False  # one written word the analyzer split (casse-croûte), not quoted

    def describe(self) -> str:
        where = "" if self.fields == FIELDS else f"{self.fields[0]}:"
        slop = f"~{self.slop}" if self.slop else ""
        return f'{where}"{" ".join(w.term for w in self.words)}"{slop}'


@dataclass
class Group:
    """Clauses of one level: required, optional (ranked by coordination) and excluded."""

    must: list[Any] = field(default_factory=list)
    should: list[Any] = field(default_factory=list)
    must_not: list[Any] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"+{_describe(c)}" for c in self.must]
        parts += [_describe(c) for c in self.should]
        parts += [f"-{_describe(c)}" for c in self.must_not]
        return "(" + " ".join(parts) + ")"


@dataclass
class Either:
    """Any of the clauses (OR / OU)."""

    clauses: list[Any]

    def describe(self) -> str:
        return "(" + " OR ".join(_describe(c) for c in self.clauses) + ")"


def _describe(node: Any) -> str:
    return str(node.describe())


@dataclass
class ParsedQuery:
    """A parsed query: its tree, its words, and any notes about what was ignored."""

    text: str
    root: Any
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return _describe(self.root) if self.root is not None else ""

    def words(self, positive_only: bool = True) -> list[Word]:
        out: list[Word] = []
        _collect_words(self.root, out, positive_only)
        return out


@dataclass(frozen=True)
class Highlighting:
    """What a hit highlights: the query's phrases as runs of terms, and the terms found alone.

    A term that only a phrase asked for is highlighted where the phrase is, not alone.
    """

    phrases: tuple[tuple[tuple[str, ...], int], ...] = ()  # (terms, slop)
    phrase_only: frozenset[str] = frozenset()


def highlighting(root: Any, expansions: dict[str, list[str]]) -> Highlighting:
    """The phrases (quoted, or of a synonym) among the positive clauses of a query tree."""
    phrases: list[tuple[tuple[str, ...], int]] = []
    alone: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Word):
            alone.add(node.term)
            alone.update(expansions.get(node.text, ()))
        elif isinstance(node, Phrase):
            if node.split:  # a hyphenated word: its parts are found apart too
                for word in node.words:
                    walk(word)
            else:
                phrases.append((tuple(w.term for w in node.words), node.slop))
        elif isinstance(node, Group):
            for child in node.must + node.should:
                walk(child)
        elif isinstance(node, Either):
            for child in node.clauses:
                walk(child)

    walk(root)
    only = {t for terms, _slop in phrases for t in terms} - alone
    return Highlighting(tuple(dict.fromkeys(phrases)), frozenset(only))


def _collect_words(node: Any, out: list[Word], positive_only: bool) -> None:
    if node is None:
        return
    if isinstance(node, Word):
        if not any(word is node for word in out):  # a split word's parts appear twice
            out.append(node)
    elif isinstance(node, Phrase):
        for word in node.words:
            _collect_words(word, out, positive_only)
    elif isinstance(node, Group):
        for child in node.must + node.should:
            _collect_words(child, out, positive_only)
        if not positive_only:
            for child in node.must_not:
                _collect_words(child, out, positive_only)
    elif isinstance(node, Either):
        for child in node.clauses:
            _collect_words(child, out, positive_only)


# ---------------------------------------------------------------------------
# Parsing

_QUOTES = {'"': '"', "«": "»", "“": "”", "„": "“"}
# An ordinal written with a space (13 ème) is one word, as the analyzer reads it, and so is a
# legal reference (L. 3142-1).
_LEX_RE = re.compile(
    r"""
    (?P<space>[\s»”]+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<quote>["«“„])
  | (?P<word>""" + LEGAL_REFERENCE + r"""[^\s()"«»“”„]*|\d+""" + SPACED_ORDINAL + r"""(?![^\W_])|[^\s()"«»“”„]+)
    """,
    re.VERBOSE,
)
_OPERATORS = {
    "AND": "AND", "ET": "AND", "&&": "AND",
    "OR": "OR", "OU": "OR", "||": "OR",
    "NOT": "NOT", "SAUF": "NOT",
}
_SUFFIX_RE = re.compile(r"^(?P<body>.*?)(?:(?P<star>\*)|~(?P<fuzzy>\d*))$", re.DOTALL)
_SLOP_RE = re.compile(r"~(\d{1,3})")


@dataclass
class _Lexeme:
    kind: str  # "(" ")" "phrase" "word" "op"
    text: str
    slop: int = 0
    modifier: str = ""  # "+" or "-"
    field: str | None = None


def _lex(text: str, notes: list[str]) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i = 0
    pending_field: str | None = None
    pending_mod = ""
    while i < len(text):
        match = _LEX_RE.match(text, i)
        assert match is not None
        kind = match.lastgroup
        i = match.end()
        if kind == "space":
            continue
        if kind == "lparen":
            out.append(_Lexeme("(", "(", modifier=pending_mod, field=pending_field))
            pending_mod, pending_field = "", None
        elif kind == "rparen":
            out.append(_Lexeme(")", ")"))
        elif kind == "quote":
            closer = _QUOTES[match.group()]
            end = text.find(closer, i)
            if closer != '"' and end < 0:
                end = text.find('"', i)
            if end < 0:
                notes.append("unbalanced quote: read the rest as a phrase")
                end = len(text)
            phrase = text[i:end]
            i = min(len(text), end + 1)
            slop = 0
            slop_match = _SLOP_RE.match(text, i)
            if slop_match:
                slop = int(slop_match.group(1))
                i = slop_match.end()
            out.append(_Lexeme("phrase", phrase, slop, pending_mod, pending_field))
            pending_mod, pending_field = "", None
        else:
            word = match.group()
            if word in _OPERATORS and not pending_mod and pending_field is None:
                out.append(_Lexeme("op", _OPERATORS[word]))
                continue
            mod = ""
            while word[:1] in ("+", "-") and len(word) > 1:
                mod = word[0]
                word = word[1:]
            mod = mod or pending_mod
            name, colon, rest = word.partition(":")
            if colon and name.isalpha() and name.lower() not in FIELD_ALIASES and rest[:1].isalnum():
                known = ", ".join(sorted({f"{n}:" for n in FIELD_ALIASES}))
                notes.append(f"unknown field '{name}:' (fields are {known}): searched as words")
            if colon and name.lower() in FIELD_ALIASES and pending_field is None:
                pending_field = FIELD_ALIASES[name.lower()]
                pending_mod = mod
                if rest:
                    # title:word, or title:"phrase" handled by the next lexeme
                    out.append(_Lexeme("word", rest, modifier=mod, field=pending_field))
                    pending_mod, pending_field = "", None
                continue
            if word in ("+", "-"):
                pending_mod = word
                continue
            out.append(_Lexeme("word", word, modifier=mod, field=pending_field))
            pending_mod, pending_field = "", None
    if pending_field is not None:
        notes.append(f"nothing after {pending_field}: ignored")
    return out


class _Parser:
    def __init__(self, lexemes: list[_Lexeme], notes: list[str]) -> None:
        self.lexemes = lexemes
        self.i = 0
        self.notes = notes
        self.depth = 0

    def peek(self) -> _Lexeme | None:
        return self.lexemes[self.i] if self.i < len(self.lexemes) else None

    def parse(self) -> Any:
        node = self.parse_or()
        while self.peek() is not None:  # a stray ")"
            self.i += 1
            self.notes.append("unbalanced ')': ignored")
            more = self.parse_or()
            node = _merge_groups(node, more)
        return node

    def parse_or(self) -> Any:
        clauses = [self.parse_and()]
        while (lx := self.peek()) is not None and lx.kind == "op" and lx.text == "OR":
            self.i += 1
            clauses.append(self.parse_and())
        clauses = [c for c in clauses if c is not None]
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else Either(clauses)

    def parse_and(self) -> Any:
        group = Group()
        required_next = False
        last_should: Any = None
        while (lx := self.peek()) is not None:
            if lx.kind == ")" or (lx.kind == "op" and lx.text == "OR"):
                break
            if lx.kind == "op" and lx.text == "AND":
                self.i += 1
                required_next = True
                if last_should is not None:
                    group.should.remove(last_should)
                    group.must.append(last_should)
                    last_should = None
                continue
            negate = False
            if lx.kind == "op" and lx.text == "NOT":
                self.i += 1
                negate = True
                if self.peek() is None or self.peek().kind in (")",) or self.peek().kind == "op":
                    self.notes.append("NOT without a word after it: ignored")
                    continue
                lx = self.peek()
            node, modifier = self.parse_unary()
            if node is None:
                continue
            if isinstance(node, Phrase) and node.split and not (negate or modifier or required_next):
                # A free split word: its parts next to each other, or any of them
                # (casse-croûte finds "casse-croûte", and "casse" or "croûte" alone, lower).
                node = Either([node, Group(should=list(node.words))])
            if negate or modifier == "-":
                group.must_not.append(node)
                last_should = None
            elif modifier == "+" or required_next:
                group.must.append(node)
                last_should = None
            else:
                group.should.append(node)
                last_should = node
            required_next = False
        if required_next:
            self.notes.append("AND without a word after it: ignored")
        if not (group.must or group.should or group.must_not):
            return None
        if not group.must and not group.must_not and len(group.should) == 1:
            return group.should[0]
        return group

    def parse_unary(self) -> tuple[Any, str]:
        lx = self.lexemes[self.i]
        self.i += 1
        if lx.kind == "(":
            if self.depth >= MAX_DEPTH:
                raise QueryError(f"the query nests parentheses more than {MAX_DEPTH} deep")
            self.depth += 1
            node = self.parse_or()
            self.depth -= 1
            if self.peek() is not None and self.peek().kind == ")":
                self.i += 1
            else:
                self.notes.append("unbalanced '(': closed at the end")
            if lx.field is not None and node is not None:
                node = _restrict(node, (lx.field,))
            return node, lx.modifier
        if lx.kind == ")":
            self.notes.append("unbalanced ')': ignored")
            return None, ""
        fields = (lx.field,) if lx.field else FIELDS
        if lx.kind == "phrase":
            return _phrase_node(lx.text, lx.slop, fields, self.notes), lx.modifier
        # A stopword among free words is what a question is made of: dropped without a note.
        free = not lx.modifier and lx.field is None
        return _word_node(lx.text, fields, self.notes, quiet=free), lx.modifier


def _merge_groups(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return Group(should=[a, b])


def _restrict(node: Any, fields: tuple[str, ...]) -> Any:
    if isinstance(node, (Word, Phrase)):
        node.fields = fields
        if isinstance(node, Phrase):
            for word in node.words:
                word.fields = fields
    elif isinstance(node, Group):
        for child in node.must + node.should + node.must_not:
            _restrict(child, fields)
    elif isinstance(node, Either):
        for child in node.clauses:
            _restrict(child, fields)
    return node


def _words_of(text: str, fields: tuple[str, ...]) -> list[Word]:
    return [Word(t.term, t.original, fields, folded=t.folded) for t in analyze(text) if t.term]


def _node(words: list[Word], slop: int, fields: tuple[str, ...], text: str, notes: list[str],
          empty: str | None) -> Any:
    """One word, a phrase of several (consecutive unless ``slop``), or None with a note (unless
    ``empty`` is None)."""
    if not words:
        if text.strip() and empty is not None:
            notes.append(empty)
        return None
    if len(words) == 1:
        return words[0]
    return Phrase(words, slop, fields, text)


def _phrase_node(text: str, slop: int, fields: tuple[str, ...], notes: list[str]) -> Any:
    empty = f'"{text.strip()}" has only stopwords or punctuation: ignored'
    return _node(_words_of(text, fields), slop, fields, text, notes, empty)


def _word_node(text: str, fields: tuple[str, ...], notes: list[str], quiet: bool = False) -> Any:
    match = _SUFFIX_RE.match(text)
    prefix = fuzzy = False
    distance = 0
    if match and match.group("body"):
        if match.group("star"):
            prefix, text = True, match.group("body")
        else:
            fuzzy, text = True, match.group("body")
            distance = int(match.group("fuzzy") or 1)
            distance = max(1, min(distance, 2))
    elif match:  # a bare "*" or "~"
        notes.append(f"'{text}' alone means nothing: ignored")
        return None
    if prefix and "*" in text:
        notes.append(f"'{text}*': only a trailing * is a wildcard")
        text = text.replace("*", "")
    words = _words_of(text, fields)
    if prefix or fuzzy:
        # A wildcard or fuzzy word is matched on its folded form, stopword or not.
        parts = [t for t in analyze(text, keep_stopwords=True) if t.folded]
        if not parts:
            return None
        last = parts[-1]
        head = [Word(t.term, t.original, fields, folded=t.folded) for t in parts[:-1] if t.term]
        if prefix and len(last.folded) < MIN_PREFIX:
            notes.append(f"'{text}*': a prefix needs at least {MIN_PREFIX} letters: ignored")
            tail = None
        else:
            tail = Word(
                last.term or last.folded, last.original, fields, prefix=prefix,
                fuzzy=distance, folded=last.folded,
            )
        words = head + ([tail] if tail else [])
        if tail is not None and head:
            # Phrases match exact terms: a split word ending in a wildcard or fuzzy
            # part (etats-uni*) requires each of its parts instead.
            return Group(must=list(words))
    # A word the analyzer splits (États-Unis, L1234-5) is a phrase of its parts. Unless
    # it has a number (L1234-5), a free one also finds its parts apart (see parse_and).
    empty = None if quiet else f"'{text}' is a stopword or punctuation: ignored"
    node = _node(words, 0, fields, text, notes, empty)
    if isinstance(node, Phrase) and not any(ch.isdigit() for w in words for ch in w.term):
        node.split = True
    return node


def parse_query(text: str) -> ParsedQuery:
    """Parse a query string; raises QueryError when nothing searchable is left."""
    if not isinstance(text, str):
        raise QueryError("the query must be a string")
    notes: list[str] = []
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"the query is too long ({len(text):,} characters; the limit is {MAX_QUERY_LENGTH:,})"
        )
    root = _Parser(_lex(text, notes), notes).parse()
    parsed = ParsedQuery(text, root, list(dict.fromkeys(notes)))  # each note once
    expanded = {_word_key(w) for w in parsed.words(positive_only=False) if w.prefix or w.fuzzy}
    if len(expanded) > MAX_EXPANDED_WORDS:
        raise QueryError(
            f"too many wildcard or fuzzy words ({len(expanded)}; the limit is {MAX_EXPANDED_WORDS})"
        )
    if root is None:
        raise QueryError(
            "nothing to search: the query has only stopwords, operators or punctuation",
            hint="Search for the words that say what you are looking for "
            "(`frsearch analyze TEXT` shows how a text is read).",
        )
    return parsed


def _distinct(clauses: list[Any]) -> list[Any]:
    """The clauses with repeated words kept once (``xiaomi xiaomi`` searches ``xiaomi``)."""
    seen: set[tuple] = set()
    out = []
    for clause in clauses:
        if isinstance(clause, Word):
            key = _word_key(clause)
            if key in seen:
                continue
            seen.add(key)
        out.append(clause)
    return out


def _word_key(word: Word) -> tuple:
    """What makes two words of a query the same search."""
    return (word.term, word.folded if (word.prefix or word.fuzzy) else "", word.fields,
            word.prefix, word.fuzzy)


# ---------------------------------------------------------------------------
# Results


@dataclass
class Snippet:
    """A piece of text with highlighted spans (character offsets into ``text``)."""

    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)


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
    #: The query as typed with its mistyped words corrected (see frsearch.spelling), or None.
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


@dataclass
class SearchOptions:
    """Ranking parameters (tuned on codedutravail-dev and piaf-train, all queries)."""

    k1: float = 1.2
    b: dict[str, float] = field(default_factory=lambda: {"title": 1.0, "body": 0.5})
    weights: dict[str, float] = field(default_factory=lambda: {"title": 2.0, "body": 1.0})
    # Free words: score * (matched / total) ** coordination; documents with every word first.
    # With coordination_mode "idf" each word counts its idf (matched and total are shares of
    # the query's idf mass, so missing a rare word costs more than missing a common one);
    # with "count" each word counts one.
    coordination: float = 0.6
    coordination_mode: str = "idf"
    all_words_first: bool = False
    typo_tolerance: bool = True
    expansion_weight: float = 0.7
    # "bm25f": field frequencies combined before saturation; "sum": one BM25 per field, added.
    field_mode: str = "sum"
    # Free words from QUESTION_WORDS: their weight (0 drops them) when other words remain.
    question_word_weight: float = 0.0
    # Free words next to each other in the query and within proximity_slop words of each
    # other (in that order) in a field: the document gains proximity_weight times their scores.
    proximity_weight: float = 0.8
    proximity_slop: int = 1
    # How many of the best documents so far the proximity bonus looks at (0: all).
    proximity_depth: int = 200
    # Three consecutive free words of the query side by side, in that order, in a field: the
    # document gains this weight times their three scores (on top of the two pairs' bonus).
    proximity_triple_weight: float = 0.3
    # The proximity bonus also looks for the words' related forms and spellings (their
    # expansions), not only their own terms.
    proximity_expansions: bool = True
    # Among the documents the proximity bonus looks at, the best window of window_size
    # positions in one field (stopwords take none, so 8 is about a sentence) that holds at
    # least window_min distinct free words of the query, in any order, earns the document
    # window_weight times its summed word scores times those words' share of the query (as
    # coordination counts it). 0: off.
    window_weight: float = 0.25
    window_size: int = 8
    window_min: int = 2
    # Words not in the index: "frequent" expands to the most frequent terms within one or two
    # edits of the stem; "nearest" to the closest spellings of the word as typed, preferring
    # those found with the query's other words (the did-you-mean ranking).
    typo_mode: str = "nearest"
    typo_candidates: int = 3
    # idf ** idf_exponent: above 1, rare words weigh more against common ones than in BM25.
    idf_exponent: float = 1.5
    # Related forms of an indexed free word (Snowball gives démission "demiss" but
    # démissionner "demission"): "prefix" adds the most frequent (related_limit) indexed
    # terms that extend the word's term by at most related_letters letters or that it
    # extends, at related_weight; "restem" those sharing its term stemmed once more
    # (Snowball is not idempotent: "indemnit" and "indemnis" both give "indemn"); "" none.
    # Terms shorter than related_min_length are left alone.
    related_mode: str = "prefix"
    related_letters: int = 3
    related_min_length: int = 5
    related_limit: int = 1
    related_weight: float = 0.6
    # A related term rarer than the word counts the word's idf, not its own (a rare stem
    # such as "contr" next to "contrat" would otherwise outweigh the word itself).
    related_idf_cap: bool = True
    # Pseudo-relevance feedback, for the hits past the first page: the first feedback_after
    # hits stay as they are; the ones after them are ordered by their score plus
    # feedback_weight times how well they match the feedback_terms most characteristic
    # terms of the best feedback_docs documents (both scores scaled to their best). Only
    # documents the query matches are ranked; feedback_docs 0 turns it off.
    feedback_docs: int = 5
    feedback_terms: int = 20
    feedback_weight: float = 0.2
    feedback_after: int = 10
    # Score with numpy arrays (the same hits and scores as the dictionary path, faster).
    vectorized: bool = True


# ---------------------------------------------------------------------------
# The engine


class _TermData:
    __slots__ = ("docs", "df", "size")

    def __init__(self, docs: dict[str, dict[int, float]]) -> None:
        self.docs = docs  # field -> {docnum: term frequency}
        self.size = sum(len(p) for p in docs.values())
        self.df = len(set().union(*docs.values()))


class _Cache:
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


class _TermVectors:
    """A term's postings as arrays: field -> (document numbers ascending, frequencies)."""

    __slots__ = ("fields", "df", "size")

    def __init__(self, fields: dict[str, tuple[np.ndarray, np.ndarray]], doc_count: int) -> None:
        self.fields = fields
        self.size = sum(len(ids) for ids, _tfs in fields.values())
        found = [ids for ids, _tfs in fields.values() if len(ids)]
        if len(found) < 2:
            self.df = len(found[0]) if found else 0
        else:  # documents counted once, whichever fields have the term
            seen = np.zeros(doc_count, dtype=bool)
            df = 0
            for ids in found:
                df += len(ids) - int(np.count_nonzero(seen[ids]))
                seen[ids] = True
            self.df = df


class _Members:
    """The documents marked in an array, for ``docnum in members``."""

    __slots__ = ("mask",)

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask

    def __contains__(self, docnum: object) -> bool:
        return bool(self.mask[docnum])


_NO_DOCS = np.zeros(0, dtype=np.int64)
_NO_SCORES = np.zeros(0)


def _spread(n: int, ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scores, mask) over ``n`` documents from the scores of some of them."""
    scores = np.zeros(n)
    scores[ids] = values
    mask = np.zeros(n, dtype=bool)
    mask[ids] = True
    return scores, mask


def _values_at(ids: np.ndarray, values: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """The values of ``docs`` (0 for those not in ``ids``, which is ascending)."""
    if not len(ids):
        return np.zeros(len(docs))
    at = np.minimum(np.searchsorted(ids, docs), len(ids) - 1)
    return np.where(ids[at] == docs, values[at], 0.0)


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values in both ascending arrays of distinct values."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return a
    at = np.minimum(np.searchsorted(b, a), len(b) - 1)
    return a[b[at] == a]


def _union(parts: list[np.ndarray]) -> np.ndarray:
    """The distinct values of ascending arrays, ascending (np.union1d without its import of
    numpy.ma, which a one-query process would pay for)."""
    if len(parts) == 1:
        return parts[0]
    return _distinct_sorted(np.sort(np.concatenate(parts)))


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _following(keys: list[np.ndarray], reach: int) -> np.ndarray:
    """The documents (ascending) where each word follows the previous one at most ``reach``
    positions later: ``keys`` holds each word's occurrences, ascending, as document << 32 |
    position, so that following a word is a sorted search over all occurrences at once."""
    if reach == 1:
        # The i-th word's occurrences, i positions back, are where the words may start:
        # intersected from the rarest word.
        starts: np.ndarray | None = None
        for i in sorted(range(len(keys)), key=lambda i: len(keys[i])):
            shifted = keys[i] - i if i else keys[i]
            starts = shifted if starts is None else _intersect(starts, shifted)
            if not len(starts):
                return _NO_DOCS
        return _distinct_sorted((starts if starts is not None else _NO_DOCS) >> 32)
    ends = keys[0]
    for following in keys[1:]:
        if not len(ends):
            break
        # The closest occurrence of the previous word before each of this word's.
        at = np.searchsorted(ends, following)
        closest = ends[np.maximum(at - 1, 0)]
        ends = following[(at > 0) & (following - closest <= reach)]
    return _distinct_sorted(ends >> 32)


def _top(scores: np.ndarray, docs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of ``docs`` by score, then lower docnum (as _best), best first."""
    values = scores[docs]
    if len(docs) > k:
        cut = np.partition(values, len(values) - k)[len(values) - k]
        keep = values >= cut
        docs, values = docs[keep], values[keep]
    order = np.lexsort((docs, -values))[:k]
    return docs[order], values[order]


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


class Engine:
    """Executes parsed queries on one committed state of an index (a Whoosh searcher)."""

    def __init__(self, searcher: Any, options: SearchOptions | None = None) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.options = options or SearchOptions()
        self.leaves = list(self.reader.leaf_readers())
        self.doc_count = self.reader.doc_count()
        self.doc_count_all = self.reader.doc_count_all()
        self._codes: dict[str, bytes] = {}
        self._avg: dict[str, float] = {}
        for name in FIELDS:
            total = self.reader.field_length(name)
            self._avg[name] = (total / self.doc_count) if self.doc_count else 1.0
        self._terms = _Cache(MAX_CACHED_POSTINGS)  # (term, fields) -> _TermData
        self._columns: dict[str, list[Any]] = {}
        self._corrections = _Cache(MAX_CACHED_WORDS)  # word and context -> close spellings
        self._close = _Cache(MAX_CACHED_WORDS)  # word -> close terms (see _close_terms)
        self._lock = threading.RLock()
        self._arrays: list[Any] | None = None
        self._vectors = _Cache(MAX_CACHED_POSTINGS)  # (term, fields) -> _TermVectors
        self._live: np.ndarray | None = None
        _reuse_freed_memory()

    # -- index statistics ---------------------------------------------------

    def length_codes(self, fieldname: str) -> bytes:
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
            cached = self._codes[fieldname] = b"".join(parts)
        return cached

    def lengths(self, fieldname: str) -> list[int]:
        """Length (in terms) of ``fieldname`` for every document number."""
        table = [byte_to_length(i) for i in range(256)]
        return list(map(table.__getitem__, self.length_codes(fieldname)))

    def column(self, name: str) -> list[Any]:
        """A sortable field's value for every document number ("" where it has none)."""
        with self._lock:
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

    def filter_paths(self, docnums: Any, under: str | None = None, glob: str | None = None) -> set[int]:
        """The documents among ``docnums`` whose file is under a folder and/or matches a glob.

        ``under`` is compared with absolute paths; a ``glob`` without ``/``
        matches the file name, one with ``/`` the path as it was given.
        """
        ids = self.column("id")
        paths = self.column("path")
        root = nfc(os.path.join(os.path.abspath(under), "")) if under else None
        glob = nfc(glob) if glob is not None else None
        keep = set()
        for docnum in docnums:
            path = paths[docnum]
            if not path:
                continue  # a document added from the library, not a file
            if root is not None and not nfc(ids[docnum]).startswith(root):
                continue
            if glob is not None:
                target = nfc(path if "/" in glob else os.path.basename(path))
                if not fnmatch.fnmatchcase(target, glob):
                    continue
            keep.add(docnum)
        return keep

    def mtime_ns(self, docnum: int) -> int:
        """Modification time of an indexed file (0 for library documents)."""
        signature = self.column("signature")[docnum]
        return int(signature.split(" ", 1)[0]) if signature else 0

    def norms(self, fieldname: str) -> list[float]:
        """BM25 length normaliser 1 - b + b * length / average, for each length code."""
        key = f"norm:{fieldname}"
        cached = self._derived.get(key)
        if cached is None:
            b = self.options.b.get(fieldname, 0.75)
            avg = self._avg.get(fieldname) or 1.0
            cached = [1.0 - b + b * byte_to_length(i) / avg for i in range(256)]
            self._derived[key] = cached
        return cached

    def saturation(self, fieldname: str) -> list[float]:
        """k1 times the length normaliser, for each length code."""
        key = f"sat:{fieldname}"
        cached = self._derived.get(key)
        if cached is None:
            k1 = self.options.k1
            cached = [k1 * n for n in self.norms(fieldname)]
            self._derived[key] = cached
        return cached

    @property
    def options(self) -> SearchOptions:
        return self._options

    @options.setter
    def options(self, value: SearchOptions) -> None:
        self._options = value
        self._derived: dict[str, list[float]] = {}
        #: Scores of words (see word_scores), kept across queries while they fit.
        self._scores = _Cache(MAX_CACHED_POSTINGS)
        self._derived_arrays: dict[str, np.ndarray] = {}
        self._vector_scores = _Cache(MAX_CACHED_POSTINGS)  # the same, as arrays (word_vector)
        self._related = _Cache(MAX_CACHED_WORDS)  # (term, fields) -> related forms

    def postings(self, fieldname: str, term: str) -> dict[int, float]:
        """{docnum: frequency} of a term in one field, deleted documents left out."""
        out: dict[int, float] = {}
        btext = term if isinstance(term, bytes) else term.encode("utf-8")
        for (leaf, base), arrays in zip(self.leaves, self.posting_arrays()):
            found = arrays.postings(fieldname, btext)
            if found is None:
                continue
            ids, weights = found
            docs: Any = map(base.__add__, ids) if base else ids
            out.update(zip(docs, weights if weights is not None else repeat(1.0)))
            if leaf.has_deletions():
                for docnum in [d for d in out if d >= base and leaf.is_deleted(d - base)]:
                    del out[docnum]
        return out

    def posting_arrays(self) -> list[Any]:
        """Each segment's posting arrays (frsearch.postings)."""
        if self._arrays is None:
            with self._lock:
                if self._arrays is None:
                    self._arrays = [open_arrays(leaf) for leaf, _base in self.leaves]
        return self._arrays

    def close(self) -> None:
        """Close the files of the posting arrays (the searcher is its owner's to close)."""
        with self._lock:
            arrays, self._arrays = self._arrays, None
            for item in arrays or ():
                item.close()

    def term_data(self, term: str, fields: Sequence[str]) -> _TermData:
        key = (term, ",".join(fields))
        data = self._terms.get(key)
        if data is None:
            data = _TermData({f: self.postings(f, term) for f in fields})
            with self._lock:  # bounded by postings held, not by terms: common terms are large
                self._terms.put(key, data, data.size)
        return data

    def has_term(self, term: str, fields: Sequence[str] = FIELDS) -> bool:
        return any((f, term) in self.reader for f in fields)

    def expansions(self, word: Word, ctx: "_Context | None" = None) -> list[tuple[str, float]]:
        """The index terms a word stands for, each with a weight.

        The query's other words (``ctx``) help choose between close spellings
        of an unknown word; only the first few unknown words of a query are
        looked up.
        """
        fields = word.fields
        if word.prefix:
            return self._prefix_terms(word, fields)
        if word.fuzzy:
            return self._fuzzy_terms(word, word.fuzzy, fields)
        if self.has_term(word.term, fields):
            found = [(word.term, 1.0)]
            if self.options.related_mode:
                found += self._related_terms(word, fields)
            return found
        if self.options.typo_tolerance:
            if ctx is None:
                found = self._typo_terms(word, fields)
            else:
                ctx.typo_budget -= 1
                found = self._typo_terms(word, fields, ctx.context_terms(self)) if ctx.typo_budget >= 0 else []
            if ctx is not None and not ctx.lenient:
                # Only the spellings the word may stand for, unless the query finds nothing
                # without the others (see _search).
                kept = set(spelling.close_spellings_kept(
                    word.text, word.folded or word.term, word.term, [t for t, _ in found], QUESTION_WORDS))
                ctx.held_back = ctx.held_back or len(kept) < len(found)
                found = [(t, w) for t, w in found if t in kept]
            return found
        return []

    def _expansions_once(self, word: Word, ctx: "_Context") -> list[tuple[str, float]]:
        """A word's expansions, looked up once per query (a typo's use the query's budget)."""
        key = _word_key(word)
        found = ctx.expanded.get(key)
        if found is None:
            found = ctx.expanded[key] = self.expansions(word, ctx)
        return found

    def _frequency(self, term: str, fields: Sequence[str]) -> int:
        return sum(self.reader.doc_frequency(f, term) for f in fields)

    def _related_terms(self, word: Word, fields: Sequence[str]) -> list[tuple[str, float]]:
        """Indexed terms of the same word family as an indexed word (see ``related_mode``),
        looked up once per engine and set of options."""
        key = (word.term, tuple(fields))
        found = self._related.get(key)
        if found is None:
            found = self._find_related_terms(word.term, fields)
            with self._lock:
                self._related.put(key, found)
        return found

    def _find_related_terms(self, term: str, fields: Sequence[str]) -> list[tuple[str, float]]:
        opts = self.options
        if len(term) < opts.related_min_length or not term.isalpha():
            return []
        candidates: set[str] = set()
        if opts.related_mode == "restem":
            root = stem(term)
            prefix = os.path.commonprefix([term, root])
            for f in fields if len(prefix) >= opts.related_min_length else ():
                for t in self.reader.expand_prefix(f, prefix):
                    t = t.decode("utf-8") if isinstance(t, bytes) else t
                    if len(t) - len(prefix) <= opts.related_letters + 2 and (t == root or stem(t) == root):
                        candidates.add(t)
        elif opts.related_mode == "prefix":
            limit = opts.related_letters
            for f in fields:
                for t in self.reader.expand_prefix(f, term):
                    t = t.decode("utf-8") if isinstance(t, bytes) else t
                    if len(t) - len(term) <= limit:
                        candidates.add(t)
            for cut in range(1, limit + 1):
                shorter = term[:-cut]
                if len(shorter) < opts.related_min_length:
                    break
                if self.has_term(shorter, fields):
                    candidates.add(shorter)
        candidates.discard(term)
        found = {t: self._frequency(t, fields) for t in candidates}
        best = heapq.nlargest(opts.related_limit, found.items(), key=lambda kv: (kv[1], kv[0]))
        if not opts.related_idf_cap:
            return [(t, opts.related_weight) for t, _ in best]
        # word_scores weighs each term by weight * idf: scale so that the product is at most
        # related_weight times the word's own idf.
        own = self.idf(self.df(term, fields))
        out = []
        for t, _ in best:
            idf = self.idf(self.df(t, fields))
            out.append((t, opts.related_weight * min(1.0, own / idf) if idf > 0 else 0.0))
        return out

    def _prefix_terms(self, word: Word, fields: Sequence[str]) -> list[tuple[str, float]]:
        prefix = word.folded or word.term
        found: dict[str, int] = {}
        for f in fields:
            for term in self.reader.expand_prefix(f, prefix):
                term = term.decode("utf-8") if isinstance(term, bytes) else term
                found[term] = found.get(term, 0) + self.reader.doc_frequency(f, term)
                if len(found) > 10 * MAX_EXPANSIONS:
                    break
        stemmed = stem(prefix)
        if stemmed != prefix and self.has_term(stemmed, fields):
            found.setdefault(stemmed, 1)
        best = heapq.nlargest(MAX_EXPANSIONS, found.items(), key=lambda kv: kv[1])
        return [(term, 1.0) for term, _ in best]

    def _fuzzy_terms(self, word: Word, distance: int, fields: Sequence[str]) -> list[tuple[str, float]]:
        found: dict[str, float] = {}
        for source in {word.term, word.folded or word.term}:
            for f in fields:
                for term in self.reader.terms_within(f, source, distance, prefix=0):
                    weight = 1.0 if term == word.term else self.options.expansion_weight
                    found[term] = max(found.get(term, 0.0), weight)
        ranked = sorted(found.items(), key=lambda kv: -kv[1])
        return ranked[:MAX_EXPANSIONS]

    def _typo_terms(
        self, word: Word, fields: Sequence[str], context: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        """Close spellings of indexed words, for a word the index does not have."""
        if self.options.typo_mode == "nearest":
            found = self.corrections(word, limit=self.options.typo_candidates, context=context)
            return [(term, self.options.expansion_weight) for term in found]
        source = word.folded or word.term
        if len(source) < 4 or source[0].isdigit():
            return []
        distance = 1 if len(source) < 8 else 2
        found: dict[str, int] = {}
        for candidate in {word.term, source}:
            for f in fields:
                for term in self.reader.terms_within(f, candidate, distance, prefix=1):
                    found[term] = found.get(term, 0) + self.reader.doc_frequency(f, term)
        best = heapq.nlargest(self.options.typo_candidates, found.items(), key=lambda kv: kv[1])
        return [(term, self.options.expansion_weight) for term, _ in best]

    # -- spelling ---------------------------------------------------------------

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
        distances, frequency, shortlist = self._close_terms(word.term, source, word.fields)
        seen: np.ndarray | None = None  # the documents with a context term
        if len(shortlist) > 1 and context:
            seen = np.zeros(self.doc_count_all, dtype=bool)
            for term in context:
                for ids, _tfs in self.term_vectors(term, word.fields).fields.values():
                    seen[ids] = True

        def rank(term: str) -> tuple[int, int, int, str]:
            together = 0
            if seen is not None:
                together = int(np.count_nonzero(seen[self.term_docs(term, word.fields)]))
            return (distances[term], -together, -frequency[term], term)

        found = sorted(shortlist, key=rank)[:limit]
        with self._lock:
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
        reach = 1 if len(source) < 5 else 2
        distances: dict[str, int] = {}
        for variant in spelling.edits1(source):
            stemmed = stem(variant)
            if stemmed not in distances and self.has_term(stemmed, fields):
                distances[stemmed] = 1
        for f in fields:
            for close in self.reader.terms_within(f, term, reach, prefix=1):
                distance = osa_distance(term, close)
                if distance <= reach and distance < distances.get(close, 99):
                    distances[close] = distance
        frequency = {t: sum(self.reader.doc_frequency(f, t) for f in fields) for t in distances}
        # Only the few closest and most frequent are weighed against the context.
        shortlist = sorted(distances, key=lambda t: (distances[t], -frequency[t], t))[:10]
        found = (distances, frequency, shortlist)
        with self._lock:
            self._close.put(key, found)
        return found

    def term_docs(self, term: str, fields: Sequence[str]) -> np.ndarray:
        """The documents (ascending) that have ``term`` in any of ``fields``."""
        parts = [ids for ids, _tfs in self.term_vectors(term, fields).fields.values() if len(ids)]
        if len(parts) < 2:
            return parts[0] if parts else _NO_DOCS
        return _union(parts)

    def surface(self, terms: list[str], fields: Sequence[str] = FIELDS) -> str | None:
        """How consecutive ``terms`` are written in a document (``etat unis`` -> ``États-Unis``)."""
        if not terms:
            return None
        if len(terms) == 1:
            docs = self.term_docs(terms[0], fields)
        else:
            docs = self.phrase_vector(Phrase([Word(t, t, tuple(fields)) for t in terms], 0, tuple(fields)))
        for docnum in docs[:20].tolist():
            stored = self.searcher.stored_fields(docnum)
            for name in ("title", "body"):
                text = stored.get(name) or ""
                words = analyze(text)
                for i in range(len(words) - len(terms) + 1):
                    if all(words[i + j].term == t for j, t in enumerate(terms)):
                        return text[words[i].start : words[i + len(terms) - 1].end]
        return None

    def suggest(self, parsed: ParsedQuery) -> str | None:
        """The query as typed with its mistyped words corrected, or None (see frsearch.spelling)."""
        searched = [w.text for w in parsed.words(positive_only=False) if not (w.prefix or w.fuzzy)]
        return spelling.suggest(parsed.text, searched, _Vocabulary(self), QUESTION_WORDS,
                                MAX_CORRECTED_WORDS)

    # -- matching and scoring -------------------------------------------------

    def word_scores(self, word: Word, expansions: list[tuple[str, float]]) -> dict[int, float]:
        """BM25 score of one word (its best expansion) for every document that has it, kept
        for the next queries with the word (callers must not change it)."""
        key = _scores_key(word, expansions)
        cached = self._scores.get(key)
        if cached is None:
            cached = self._word_scores(word, expansions)
            with self._lock:
                self._scores.put(key, cached, len(cached))
        return cached

    def _word_scores(self, word: Word, expansions: list[tuple[str, float]]) -> dict[int, float]:
        opts = self.options
        scores: dict[int, float] | None = None
        k1 = opts.k1
        for term, weight in expansions:
            data = self.term_data(term, word.fields)
            if not data.df:
                continue
            factor = weight * self.idf(data.df) * (k1 + 1.0)
            pseudo: dict[int, float] | None = None
            for f, postings in sorted(data.docs.items(), key=lambda kv: -len(kv[1])):
                if not postings:
                    continue
                w = opts.weights.get(f, 1.0)
                if opts.field_mode == "sum":
                    # tf / (tf + k1 * norm): one BM25 per field, added up.
                    sat = self.saturation(f)
                    codes = self.length_codes(f)
                    fw = w * factor
                    docs, tfs = list(postings), list(postings.values())
                    sats = map(sat.__getitem__, map(codes.__getitem__, docs))
                    part = dict(zip(docs, map(truediv, map(fw.__mul__, tfs), map(add, tfs, sats))))
                else:
                    norms = self.norms(f)
                    codes = self.length_codes(f)
                    part = {d: w * tf / norms[codes[d]] for d, tf in postings.items()}
                if pseudo is None:
                    pseudo = part  # the longest field first: the others are merged into it
                else:
                    _add_into(pseudo, part)
            if pseudo is None:
                continue
            if opts.field_mode != "sum":
                pseudo = {d: factor * tf / (k1 + tf) for d, tf in pseudo.items()}
            if scores is None:
                scores = pseudo
            else:
                get = scores.get
                for d, value in pseudo.items():
                    if value > get(d, 0.0):
                        scores[d] = value
        return scores if scores is not None else {}

    def idf(self, df: int) -> float:
        """The idf of a term found in ``df`` documents: BM25's, raised to ``idf_exponent``."""
        n = max(self.doc_count, 1)
        idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        exponent = self.options.idf_exponent
        return idf if exponent == 1.0 else idf**exponent

    def clause_idf(self, clause: Any, ctx: "_Context") -> float:
        """What a free clause weighs in idf coordination: the idf of its words, added up.

        A word counts the idf of its best expansion (a typo's spellings weigh
        ``expansion_weight``); a word the index does not have counts nothing.
        """
        if isinstance(clause, Word):
            expansions = ctx.expanded.get(_word_key(clause)) or [(clause.term, 1.0)]
            words = [(clause, expansions)]
        else:
            found: list[Word] = []
            _collect_words(clause, found, True)
            words = [(w, [(w.term, 1.0)]) for w in found]
        total = 0.0
        for word, expansions in words:
            best = 0.0
            for term, weight in expansions:
                df = self.df(term, word.fields)
                if df:
                    best = max(best, weight * self.idf(df))
            total += best
        return total

    def phrase_docs(self, phrase: Phrase, within: set[int] | None = None) -> set[int]:
        """Documents where the phrase's words occur in order, ``slop`` other words apart at most.

        ``within`` limits the search to those documents.
        """
        out: set[int] = set()
        terms = [w.term for w in phrase.words]
        for f in phrase.fields:
            candidates: set[int] | None = None if within is None else set(within)
            for term in terms:
                docs = self.term_data(term, phrase.fields).docs.get(f) or {}
                candidates = set(docs) if candidates is None else candidates & docs.keys()
                if not candidates:
                    break
            if not candidates:
                continue
            positions = [self.positions(f, term, candidates) for term in terms]
            for docnum in candidates:
                if _in_order(
                    [positions[i].get(docnum, ()) for i in range(len(terms))], phrase.slop + 1
                ):
                    out.add(docnum)
        return out

    def positions(self, fieldname: str, term: str, docnums: set[int]) -> dict[int, list[int]]:
        """Positions of a term in the given documents of one field, decoded for those only."""
        out: dict[int, list[int]] = {}
        btext = term.encode("utf-8")
        wanted = sorted(docnums)
        for (leaf, base), arrays in zip(self.leaves, self.posting_arrays()):
            lo = bisect_left(wanted, base)
            hi = bisect_left(wanted, base + leaf.doc_count_all())
            if lo < hi:
                local = [d - base for d in wanted[lo:hi]]
                for d, positions in arrays.positions(fieldname, btext, local).items():
                    out[d + base] = positions
        return out

    def evaluate(self, node: Any, ctx: "_Context") -> dict[int, float]:
        """Documents matching ``node`` with their scores."""
        if isinstance(node, Word):
            key = _word_key(node)
            cached = ctx.words.get(key)
            if cached is None:
                expansions = self._expansions_once(node, ctx)
                cached = (expansions, self.word_scores(node, expansions))
                ctx.words[key] = cached
            expansions, scores = cached
            ctx.expansions[node.text] = [t for t, _ in expansions]
            ctx.record(node, expansions, scores)
            return scores
        if isinstance(node, Phrase):
            docs = self.phrase_docs(node)
            found = list(docs)
            total: dict[int, float] = dict.fromkeys(found, 0.0)
            for word in node.words:
                expansions = [(word.term, 1.0)]
                scores = self.word_scores(word, expansions)
                ctx.record(word, expansions, scores, restrict=docs)
                total = dict(zip(found, map(add, map(total.__getitem__, found), map(scores.get, found, repeat(0.0)))))
            return total
        if isinstance(node, Either):
            merged: dict[int, float] = {}
            for clause in node.clauses:
                _add_into(merged, self.evaluate(clause, ctx))
            return merged
        if isinstance(node, Group):
            return self._evaluate_group(node, ctx)
        raise TypeError(node)

    def _evaluate_group(self, group: Group, ctx: "_Context") -> dict[int, float]:
        opts = self.options
        result: dict[int, float] | None = None
        for clause in group.must:
            scores = self.evaluate(clause, ctx)
            if result is None:
                result = dict(scores)
            else:
                result = {d: s + scores[d] for d, s in result.items() if d in scores}
        clauses, minor = self._split_question_words(_distinct(group.should))
        should = [self.evaluate(clause, ctx) for clause in clauses]
        if minor and not group.must and not any(should):
            # Nothing but the question words matches: they are all the query has.
            clauses, minor = clauses + minor, []
            should += [self.evaluate(clause, ctx) for clause in clauses[len(should):]]
        if minor and opts.question_word_weight > 0:
            minor_scores = [self.evaluate(clause, ctx) for clause in minor]
        else:
            minor_scores = []
        if result is None:
            if should:
                result = self._free_words(clauses, should, ctx, group)
            else:
                # Only exclusions: every document but those.
                result = {d: 0.0 for d in self.reader.all_doc_ids()}
        else:
            for scores in should:
                for d, s in scores.items():
                    if d in result:
                        result[d] += s
        w = opts.question_word_weight
        for scores in minor_scores:
            for d, s in scores.items():
                if d in result:
                    result[d] += w * s
        for clause in group.must_not:
            for d in self.evaluate(clause, ctx):
                result.pop(d, None)
        return result

    def _free_words(
        self, clauses: list[Any], should: list[dict[int, float]], ctx: "_Context", group: Group,
    ) -> dict[int, float]:
        """Free words combined: any of them, with coordination and proximity.

        The sum of each document's clause scores (added in the query's order),
        plus the proximity bonus, times its coordination factor.
        """
        result = dict(should[0])
        for scores in should[1:]:
            _add_into(result, scores)
        masses = self._masses(clauses, ctx)
        factors = self._coordination(should, masses, result, ctx, group)
        if self.options.proximity_weight > 0 and len(clauses) > 1:
            self._proximity_bonus(clauses, should, masses, result, _times(result, factors), ctx)
        return _times(result, factors)

    def _coordination(
        self, should: list[dict[int, float]], masses: list[float], result: dict[int, float],
        ctx: "_Context", group: Group,
    ) -> list[float] | None:
        """Each document's coordination factor (in ``result``'s order), or None for none."""
        opts = self.options
        n = sum(masses)
        if len(should) < 2 or n <= 0:
            return None
        # The share of the query's words each document has (weighed by idf in "idf" mode).
        matched: dict[int, float] = {}
        for scores, mass in zip(should, masses):
            _add_into(matched, dict.fromkeys(scores, mass))
        if opts.all_words_first and group is ctx.root:
            full = n * (1 - 1e-9)
            ctx.first.update(d for d, c in matched.items() if c >= full)
        p = opts.coordination
        if not p:
            return None
        return list(map(pow, map(truediv, map(matched.__getitem__, result), repeat(n)), repeat(p)))

    def _masses(self, clauses: list[Any], ctx: "_Context") -> list[float]:
        """What each free clause weighs in coordination."""
        if self.options.coordination_mode == "idf":
            return [self.clause_idf(clause, ctx) for clause in clauses]
        return [1.0] * len(clauses)

    def _proximity_bonus(
        self, clauses: list[Any], should: list[dict[int, float]], masses: list[float],
        result: dict[int, float], ranked: dict[int, float], ctx: "_Context",
    ) -> None:
        """Raise documents where consecutive free words of the query are close together.

        Only the best ``proximity_depth`` documents (by their score so far,
        ``ranked``) are looked at, so the cost does not grow with the index.
        """
        opts = self.options
        within: set[int] | None = None
        if opts.proximity_depth and len(ranked) > opts.proximity_depth:
            # Ties at the cut go to the lower document numbers, as in the final ranking.
            within = {d for d, _score in _best(ranked, opts.proximity_depth, set())}
        slop = max(0, opts.proximity_slop - 1)
        adjacent: dict[int, set[int]] = {}  # i: documents with words i and i + 1 side by side
        for i in _proximity_pairs(clauses):
            scores_a, scores_b = should[i], should[i + 1]
            if not scores_a or not scores_b:
                continue
            near = self._near_docs(clauses[i : i + 2], slop, within, ctx)
            if not slop:
                adjacent[i] = near
            for d in near:
                if d in result:
                    result[d] += opts.proximity_weight * (scores_a.get(d, 0.0) + scores_b.get(d, 0.0))
        if opts.proximity_triple_weight > 0:
            for i in _proximity_triples(clauses):
                words = clauses[i : i + 3]
                scores = should[i : i + 3]
                if not all(scores):
                    continue
                if i in adjacent and i + 1 in adjacent:
                    # Three words side by side: both of their pairs are.
                    candidates = adjacent[i] & adjacent[i + 1]
                    if not candidates:
                        continue
                else:
                    candidates = within
                for d in self._near_docs(words, 0, candidates, ctx):
                    if d in result:
                        result[d] += opts.proximity_triple_weight * sum(s.get(d, 0.0) for s in scores)
        if opts.window_weight > 0:
            self._window_bonus(clauses, should, masses, result, within, ctx)

    def _window_bonus(
        self, clauses: list[Any], should: list[dict[int, float]], masses: list[float],
        result: dict[int, float], within: set[int] | None, ctx: "_Context",
    ) -> None:
        """Raise documents where several free words of the query share a window of a few
        positions (SearchOptions.window_weight); ``masses`` as coordination weighs the
        clauses, ``within`` as in _proximity_bonus()."""
        opts = self.options
        words = _window_words(clauses, [bool(scores) for scores in should], opts.window_min)
        if not words:
            return
        total = sum(masses) or 1.0
        docs = set(result) if within is None else within
        size = opts.window_size
        best: dict[int, float] = {}
        for f in clauses[words[0]].fields:
            found = [self._merged_positions(f, _proximity_terms(clauses[i], ctx), docs) for i in words]
            for d in sorted(set().union(*found)):
                lists = [p.get(d, ()) for p in found]
                for start in sorted(set().union(*lists)):
                    count = 0
                    share = 0.0
                    for i, p in zip(words, lists):
                        if bisect_left(p, start + size) > bisect_left(p, start):
                            count += 1
                            share += masses[i] / total
                    if count >= opts.window_min and share > best.get(d, 0.0):
                        best[d] = share
        for d, share in best.items():
            if d in result:
                plain = should[0].get(d, 0.0)
                for scores in should[1:]:
                    plain += scores.get(d, 0.0)
                result[d] += opts.window_weight * (share * plain)

    def _near_docs(
        self, words: list[Word], slop: int, within: set[int] | None, ctx: "_Context",
    ) -> set[int]:
        """Documents where ``words`` follow each other (``slop`` other words between at most);
        with ``proximity_expansions``, any of each word's expansions stands for it."""
        fields = words[0].fields
        if not self.options.proximity_expansions:
            return self.phrase_docs(Phrase(list(words), slop, fields), within)
        choices = [_proximity_terms(w, ctx) for w in words]
        out: set[int] = set()
        if within is None or all(len(c) == 1 for c in choices):
            for terms in product(*choices):
                out |= self.phrase_docs(Phrase([Word(t, t, fields) for t in terms], slop, fields), within)
            return out
        # The positions of a word's expansions merged: one look at each candidate document.
        for f in fields:
            candidates = set(within)
            for terms in choices:
                found: set[int] = set()
                for t in terms:
                    found.update(self.term_data(t, fields).docs.get(f) or ())
                candidates &= found
                if not candidates:
                    break
            if not candidates:
                continue
            merged = [self._merged_positions(f, terms, candidates) for terms in choices]
            out.update(
                d for d in candidates if _in_order([p.get(d, ()) for p in merged], slop + 1)
            )
        return out

    def _merged_positions(self, fieldname: str, terms: list[str], docnums: set[int]) -> dict[int, list[int]]:
        """The positions (ascending) of any of ``terms`` (a word's expansions) in one field of
        the given documents."""
        if len(terms) == 1:
            return self.positions(fieldname, terms[0], docnums)
        merged: dict[int, list[int]] = {}
        for t in terms:
            for d, found_at in self.positions(fieldname, t, docnums).items():
                merged.setdefault(d, []).extend(found_at)
        return {d: sorted(p) for d, p in merged.items()}

    def _split_question_words(self, should: list[Any]) -> tuple[list[Any], list[Any]]:
        """Free words split into the words that matter and question words (see QUESTION_WORDS)."""
        if self.options.question_word_weight >= 1.0:
            return should, []
        minor = [
            c for c in should
            if isinstance(c, Word) and not (c.prefix or c.fuzzy)
            and (c.folded or c.term) in QUESTION_WORDS
        ]
        if not minor or len(minor) == len(should):
            return should, []
        return [c for c in should if not any(c is m for m in minor)], minor

    # -- vectorized evaluation --------------------------------------------------
    #
    # evaluate() again, with numpy: a node's result is a pair of arrays over every
    # document number (its scores, and whether each document matches), and postings
    # are read as arrays. Every score is computed with the same floating-point
    # operations, in the same order, as in evaluate(), so the hits, their scores and
    # the total are the same (tests compare the two); only the coordination factor's
    # power is taken in Python, once per set of matched words, as numpy's may round
    # differently. The dictionary path stays for SearchOptions(vectorized=False),
    # for field_mode "bm25f" and for all_words_first.

    def vectorized(self) -> bool:
        """Whether queries run through the vectorized evaluation (see above)."""
        opts = self.options
        return opts.vectorized and opts.field_mode == "sum" and not opts.all_words_first

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

    def term_vectors(self, term: str, fields: Sequence[str]) -> _TermVectors:
        """A term's postings in each of ``fields``, as arrays (kept for the next queries)."""
        key = (term, ",".join(fields))
        found = self._vectors.get(key)
        if found is None:
            found = _TermVectors({f: self._field_vectors(f, term) for f in fields}, self.doc_count_all)
            with self._lock:
                self._vectors.put(key, found, found.size)
        return found

    def df(self, term: str, fields: Sequence[str]) -> int:
        """How many documents have ``term`` in any of ``fields`` (deleted ones left out)."""
        return self.term_vectors(term, fields).df

    def _field_vectors(self, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers ascending, frequencies) of a term in one field, deleted ones left out."""
        arrays = self.posting_arrays()
        btext = term.encode("utf-8")
        id_parts, tf_parts = [], []
        for (leaf, base), segment in zip(self.leaves, arrays):
            found = segment.vectors(fieldname, btext)
            if found is None:
                continue
            local, weights = found
            ids = local.astype(np.int64)
            if base:
                ids += base
            tfs = np.ones(len(ids)) if weights is None else weights.astype(np.float64)
            if leaf.has_deletions():
                keep = self.live()[ids]
                ids, tfs = ids[keep], tfs[keep]
            id_parts.append(ids)
            tf_parts.append(tfs)
        if len(id_parts) == 1:
            return id_parts[0], tf_parts[0]
        if not id_parts:
            return _NO_DOCS, _NO_SCORES
        return np.concatenate(id_parts), np.concatenate(tf_parts)

    def _code_vector(self, fieldname: str) -> np.ndarray:
        """length_codes() as an array."""
        return self._derived_array(
            f"codes:{fieldname}", lambda: np.frombuffer(self.length_codes(fieldname), dtype=np.uint8)
        )

    def _saturation_vector(self, fieldname: str) -> np.ndarray:
        """saturation() as an array (length_codes() index it)."""
        return self._derived_array(
            f"sat:{fieldname}", lambda: np.array(self.saturation(fieldname), dtype=np.float64)
        )

    def _derived_array(self, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        """An array made once per set of options."""
        found = self._derived_arrays.get(key)
        if found is None:
            found = self._derived_arrays[key] = make()
        return found

    def word_vector(self, word: Word, expansions: list[tuple[str, float]]) -> tuple[np.ndarray, np.ndarray]:
        """word_scores() as arrays: (document numbers ascending, scores), kept between queries."""
        key = _scores_key(word, expansions)
        cached = self._vector_scores.get(key)
        if cached is not None:
            return cached
        opts = self.options
        k1 = opts.k1
        n = self.doc_count_all
        best: np.ndarray | None = None
        present: np.ndarray | None = None
        single: tuple[np.ndarray, np.ndarray] | None = None
        for term, weight in expansions:
            found = self.term_vectors(term, word.fields)
            if not found.df:
                continue
            factor = weight * self.idf(found.df) * (k1 + 1.0)
            parts = []
            for f, (ids, tfs) in sorted(found.fields.items(), key=lambda kv: -len(kv[1][0])):
                if len(ids):
                    fw = opts.weights.get(f, 1.0) * factor
                    sats = self._saturation_vector(f)[self._code_vector(f)[ids]]
                    parts.append((ids, fw * tfs / (tfs + sats)))
            if best is None and len(parts) == 1 and len(expansions) == 1:
                single = parts[0]  # one term in one field: already (documents, scores)
                break
            scores = np.zeros(n)
            mask = np.zeros(n, dtype=bool)
            for ids, part in parts:  # the longest field first, the others added to it
                scores[ids] += part
                mask[ids] = True
            if best is None:
                best, present = scores, mask
            else:  # a word scores its best term
                np.maximum(best, scores, out=best)
                present |= mask
        if single is not None:
            cached = single
        elif best is None or present is None:
            cached = (_NO_DOCS, _NO_SCORES)
        else:
            ids = np.flatnonzero(present)
            cached = (ids, best[ids])
        with self._lock:
            self._vector_scores.put(key, cached, len(cached[0]))
        return cached

    def phrase_vector(self, phrase: Phrase, within: np.ndarray | None = None) -> np.ndarray:
        """phrase_docs() as an array of document numbers, ascending."""
        terms = [w.term for w in phrase.words]
        found = []
        for f in phrase.fields:
            candidates = within
            for term in terms:
                ids = self.term_vectors(term, phrase.fields).fields[f][0]
                candidates = ids if candidates is None else _intersect(candidates, ids)
                if not len(candidates):
                    break
            if candidates is not None and len(candidates):
                docs = self._phrase_in(f, terms, phrase.slop + 1, candidates)
                if len(docs):
                    found.append(docs)
        if not found:
            return _NO_DOCS
        return _union(found)

    def _phrase_in(self, fieldname: str, terms: list[str], reach: int, candidates: np.ndarray) -> np.ndarray:
        """The ``candidates`` (which have every term) where the terms follow each other, each
        at most ``reach`` positions after the previous one, in one field."""
        return _following([self._occurrence_keys(fieldname, term, candidates) for term in terms], reach)

    def _occurrence_keys(self, fieldname: str, term: str, docs: np.ndarray) -> np.ndarray:
        """Every occurrence of a term in a field of ``docs`` (ascending), as document << 32 | position."""
        btext = term.encode("utf-8")
        parts = []
        for (leaf, base), arrays in zip(self.leaves, self.posting_arrays()):
            lo, hi = np.searchsorted(docs, (base, base + leaf.doc_count_all()))
            if lo == hi:
                continue
            wanted = docs[lo:hi]
            found = arrays.position_vectors(fieldname, btext)
            if found is None:
                continue
            ids, offsets, positions = found
            local = wanted - base
            at = np.searchsorted(ids, local)
            inside = at < len(ids)
            at, local = at[inside], local[inside]
            has = ids[at] == local
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
            return _NO_DOCS
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _dense(self, node: Any, ctx: "_Context") -> tuple[np.ndarray, np.ndarray]:
        """evaluate() as arrays: (score of every document, whether it matches)."""
        n = self.doc_count_all
        if isinstance(node, Word):
            key = _word_key(node)
            cached = ctx.vectors.get(key)
            if cached is None:
                expansions = self._expansions_once(node, ctx)
                cached = ctx.vectors[key] = (expansions, self.word_vector(node, expansions))
            expansions, (ids, values) = cached
            ctx.expansions[node.text] = [t for t, _ in expansions]
            scores, mask = _spread(n, ids, values)
            ctx.record(node, expansions, _Members(mask))
            return scores, mask
        if isinstance(node, Phrase):
            docs = self.phrase_vector(node)
            total = np.zeros(len(docs))
            mask = np.zeros(n, dtype=bool)
            mask[docs] = True
            members = _Members(mask)
            for word in node.words:
                expansions = [(word.term, 1.0)]
                ids, values = self.word_vector(word, expansions)
                total = total + _values_at(ids, values, docs)
                ctx.record(word, expansions, members)
            scores = np.zeros(n)
            scores[docs] = total
            return scores, mask
        if isinstance(node, Either):
            scores = np.zeros(n)
            mask = np.zeros(n, dtype=bool)
            for clause in node.clauses:
                values, matches = self._dense(clause, ctx)
                scores += values
                mask |= matches
            return scores, mask
        if isinstance(node, Group):
            return self._dense_group(node, ctx)
        raise TypeError(node)

    def _dense_group(self, group: Group, ctx: "_Context") -> tuple[np.ndarray, np.ndarray]:
        opts = self.options
        result: tuple[np.ndarray, np.ndarray] | None = None
        for clause in group.must:
            scores, mask = self._dense(clause, ctx)
            if result is None:
                result = (scores.copy(), mask.copy())
            else:
                result = (result[0] + scores, result[1] & mask)
        clauses, minor = self._split_question_words(_distinct(group.should))
        should = [self._dense(clause, ctx) for clause in clauses]
        if minor and not group.must and not any(mask.any() for _s, mask in should):
            # Nothing but the question words matches: they are all the query has.
            clauses, minor = clauses + minor, []
            should += [self._dense(clause, ctx) for clause in clauses[len(should):]]
        w = opts.question_word_weight
        minor_scores = [self._dense(clause, ctx) for clause in minor] if minor and w > 0 else []
        if result is None:
            if should:
                result = self._dense_free_words(clauses, should, ctx)
            else:  # only exclusions: every document but those
                result = (np.zeros(self.doc_count_all), self.live().copy())
        else:
            for scores, _mask in should:
                result = (result[0] + scores, result[1])
        scores, mask = result
        for values, _matches in minor_scores:
            scores = scores + w * values
        for clause in group.must_not:
            mask = mask & ~self._dense(clause, ctx)[1]
        scores[~mask] = 0.0
        return scores, mask

    def _dense_free_words(
        self, clauses: list[Any], should: list[tuple[np.ndarray, np.ndarray]], ctx: "_Context",
    ) -> tuple[np.ndarray, np.ndarray]:
        """_free_words() as arrays."""
        opts = self.options
        sums = should[0][0].copy()
        mask = should[0][1].copy()
        for scores, matches in should[1:]:
            sums += scores
            mask |= matches
        docs = np.flatnonzero(mask)
        masses = self._masses(clauses, ctx)
        factors = self._dense_coordination(should, masses, docs)
        if opts.proximity_weight > 0 and len(clauses) > 1:
            ranked = sums if factors is None else sums * factors
            self._dense_proximity(clauses, should, masses, sums, ranked, docs, ctx)
        return (sums if factors is None else sums * factors), mask

    def _dense_coordination(
        self, should: list[tuple[np.ndarray, np.ndarray]], masses: list[float], docs: np.ndarray,
    ) -> np.ndarray | None:
        """_coordination() as an array: each document's factor (of ``docs``, the matching
        ones), from the set of words it has."""
        n = sum(masses)
        p = self.options.coordination
        if len(should) < 2 or n <= 0 or not p:
            return None
        if len(should) <= 16:
            sets = np.zeros(len(docs), dtype=np.int64)
            for i, (_scores, matches) in enumerate(should):
                sets |= matches[docs].astype(np.int64) << i
            found = np.flatnonzero(np.bincount(sets, minlength=1 << len(should)))
            table = np.zeros(1 << len(should))
            for s in found.tolist():
                matched = 0.0
                for i, mass in enumerate(masses):  # added in the query's order, as _coordination
                    if s >> i & 1:
                        matched += mass
                table[s] = pow(matched / n, p)
            factors_of_docs = table[sets]
        else:  # a long query: the distinct shares of the documents
            matched_all = np.zeros(len(docs))
            for (_scores, matches), mass in zip(should, masses):
                matched_all += matches[docs] * mass
            order = np.argsort(matched_all, kind="stable")
            ordered = matched_all[order]
            shares = _distinct_sorted(ordered)
            table = np.array([pow(x / n, p) for x in shares.tolist()])
            factors_of_docs = np.empty(len(docs))
            factors_of_docs[order] = table[np.searchsorted(shares, ordered)]
        factors = np.zeros(self.doc_count_all)
        factors[docs] = factors_of_docs
        return factors

    def _dense_proximity(
        self, clauses: list[Any], should: list[tuple[np.ndarray, np.ndarray]], masses: list[float],
        sums: np.ndarray, ranked: np.ndarray, docs: np.ndarray, ctx: "_Context",
    ) -> None:
        """_proximity_bonus() on arrays: adds the bonus into ``sums`` (``docs``: the matching ones)."""
        opts = self.options
        within: np.ndarray | None = None
        if opts.proximity_depth:
            if len(docs) > opts.proximity_depth:
                within = np.sort(_top(ranked, docs, opts.proximity_depth)[0])
        slop = max(0, opts.proximity_slop - 1)
        occurrences: dict[tuple[str, str], np.ndarray] = {}
        adjacent: dict[int, np.ndarray] = {}  # i: documents with words i and i + 1 side by side
        for i in _proximity_pairs(clauses):
            (scores_a, mask_a), (scores_b, mask_b) = should[i], should[i + 1]
            if not mask_a.any() or not mask_b.any():
                continue
            near = self._near_vector(clauses[i : i + 2], slop, within, ctx, occurrences)
            if not slop:
                adjacent[i] = near
            if len(near):
                sums[near] += opts.proximity_weight * (scores_a[near] + scores_b[near])
        if opts.proximity_triple_weight > 0:
            for i in _proximity_triples(clauses):
                words = clauses[i : i + 3]
                three = should[i : i + 3]
                if not all(mask.any() for _scores, mask in three):
                    continue
                candidates = within
                if i in adjacent and i + 1 in adjacent:
                    # Three words side by side: both of their pairs are.
                    candidates = _intersect(adjacent[i], adjacent[i + 1])
                    if not len(candidates):
                        continue
                if self.options.proximity_expansions:
                    near = self._near_vector(words, 0, within, ctx, occurrences)
                    near = near if candidates is None else _intersect(near, candidates)
                else:
                    near = self._near_vector(words, 0, candidates, ctx, occurrences)
                if len(near):
                    (s1, _m1), (s2, _m2), (s3, _m3) = three
                    sums[near] += opts.proximity_triple_weight * (s1[near] + s2[near] + s3[near])
        if opts.window_weight > 0:
            self._dense_window(clauses, should, masses, sums, within, ctx, occurrences)

    def _dense_window(
        self, clauses: list[Any], should: list[tuple[np.ndarray, np.ndarray]], masses: list[float],
        sums: np.ndarray, within: np.ndarray | None, ctx: "_Context",
        occurrences: dict[tuple[str, str], np.ndarray],
    ) -> None:
        """_window_bonus() on arrays: adds the bonus into ``sums``."""
        opts = self.options
        words = _window_words(clauses, [bool(mask.any()) for _scores, mask in should], opts.window_min)
        if not words:
            return
        total = sum(masses) or 1.0
        best: np.ndarray | None = None
        touched = []
        fields = clauses[words[0]].fields
        for f in fields:
            keys = [
                self._merged_occurrences(f, _proximity_terms(clauses[i], ctx), fields, within, occurrences)
                for i in words
            ]
            present = [k for k in keys if len(k)]
            if len(present) < max(2, opts.window_min):
                continue
            starts = _union(present)  # every occurrence opens a window
            ends = starts + opts.window_size  # [start, start + size) stays in one document
            count = np.zeros(len(starts), dtype=np.int64)
            share = np.zeros(len(starts))
            for i, k in zip(words, keys):
                if len(k):
                    has = np.searchsorted(k, ends) > np.searchsorted(k, starts)
                    count += has
                    share += np.where(has, masses[i] / total, 0.0)
            good = count >= opts.window_min
            if good.any():
                if best is None:
                    best = np.zeros(self.doc_count_all)
                docs = starts[good] >> 32
                np.maximum.at(best, docs, share[good])
                touched.append(_distinct_sorted(docs))
        if best is not None:
            docs = _union(touched)
            plain = should[0][0][docs]
            for scores, _mask in should[1:]:
                plain += scores[docs]
            sums[docs] += opts.window_weight * (best[docs] * plain)

    def _near_vector(
        self, words: list[Word], slop: int, within: np.ndarray | None, ctx: "_Context",
        occurrences: dict[tuple[str, str], np.ndarray],
    ) -> np.ndarray:
        """_near_docs() as an array of document numbers, ascending. ``occurrences`` keeps each
        term's occurrences in the ``within`` documents (or all of its own) for the query's
        other pairs and triples."""
        fields = words[0].fields
        if not self.options.proximity_expansions:
            return self.phrase_vector(Phrase(list(words), slop, fields), within)
        choices = [_proximity_terms(w, ctx) for w in words]
        found = []
        for f in fields:
            keys = []
            for terms in choices:
                merged = self._merged_occurrences(f, terms, fields, within, occurrences)
                if not len(merged):
                    break
                keys.append(merged)
            else:
                near = _following(keys, slop + 1)
                if len(near):
                    found.append(near)
        if not found:
            return _NO_DOCS
        return _union(found)

    def _merged_occurrences(
        self, fieldname: str, terms: list[str], fields: Sequence[str], within: np.ndarray | None,
        occurrences: dict[tuple[str, str], np.ndarray],
    ) -> np.ndarray:
        """The occurrences (see _occurrence_keys) of any of ``terms`` (a word's expansions) in
        one field, ascending, in the ``within`` documents or all; ``occurrences`` keeps each
        term's for the query's other pairs, triples and windows."""
        parts = []
        for t in terms:
            part = occurrences.get((fieldname, t))
            if part is None:
                docs = self.term_vectors(t, fields).fields[fieldname][0]
                if within is not None:
                    docs = _intersect(within, docs)
                part = occurrences[fieldname, t] = self._occurrence_keys(fieldname, t, docs) if len(docs) else _NO_DOCS
            if len(part):
                parts.append(part)
        if not parts:
            return _NO_DOCS
        return parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))

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
        if sort not in ("score", "path", "mtime"):
            raise QueryError(f"unknown sort order {sort!r}: use score, path or mtime")
        expanded = synonyms.expand(parsed) if synonyms else parsed
        with self._lock:
            return self._search(expanded, limit, offset, snippets, fragments, fragment_chars,
                                parsed if suggest else None, under, glob, sort)

    def _search(
        self, parsed: ParsedQuery, limit: int, offset: int, snippets: bool, fragments: int,
        fragment_chars: int, typed: ParsedQuery | None, under: str | None, glob: str | None,
        sort: str,
    ) -> SearchResults:
        ctx = _Context(parsed.root)
        results = self._search_in(ctx, parsed, limit, offset, snippets, fragments, fragment_chars,
                                  typed, under, glob, sort)
        if results.total == 0 and ctx.held_back:
            # Nothing found with the words that were meant taken as written: search their close
            # spellings too rather than nothing.
            results = self._search_in(_Context(parsed.root, lenient=True), parsed, limit,
                                      offset, snippets, fragments, fragment_chars, typed, under,
                                      glob, sort)
        return results

    def _search_in(
        self, ctx: "_Context", parsed: ParsedQuery, limit: int, offset: int, snippets: bool,
        fragments: int, fragment_chars: int, typed: ParsedQuery | None, under: str | None,
        glob: str | None, sort: str,
    ) -> SearchResults:
        if self.vectorized():
            found, mask = self._dense(parsed.root, ctx)
            docs = np.flatnonzero(mask)
            if sort == "score" and under is None and glob is None:
                best, values = _top(found, docs, offset + limit)
                top = list(zip(best.tolist(), values.tolist()))
                top = self._with_feedback(top, found, docs, ctx)[offset:]
                return self._results(parsed, top, len(docs), offset, ctx, snippets, fragments, fragment_chars, typed)
            scores = dict(zip(docs.tolist(), found[docs].tolist()))
        else:
            scores = self.evaluate(parsed.root, ctx)
        if under is not None or glob is not None:
            keep = self.filter_paths(scores, under, glob)
            scores = {d: s for d, s in scores.items() if d in keep}
        total = len(scores)
        if sort == "path":
            paths = self.column("path")
            ids = self.column("id")
            ordered = sorted(scores.items(), key=lambda kv: (paths[kv[0]] or ids[kv[0]], kv[0]))
            top = ordered[offset : offset + limit]
        elif sort == "mtime":
            ordered = sorted(scores.items(), key=lambda kv: (-self.mtime_ns(kv[0]), kv[0]))
            top = ordered[offset : offset + limit]
        else:
            top = _best(scores, offset + limit, ctx.first)
            if self._feedback_wanted(top):
                docs = np.array(sorted(scores), dtype=np.int64)
                found = np.zeros(self.doc_count_all)
                found[docs] = [scores[d] for d in docs.tolist()]
                top = self._with_feedback(top, found, docs, ctx)
            top = top[offset:]
        return self._results(parsed, top, total, offset, ctx, snippets, fragments, fragment_chars, typed)

    # -- pseudo-relevance feedback --------------------------------------------

    def _feedback_wanted(self, top: list[tuple[int, float]]) -> bool:
        """Whether the hits asked for reach past the ones feedback leaves alone."""
        opts = self.options
        return (
            opts.feedback_docs > 0 and opts.feedback_terms > 0 and opts.feedback_weight > 0
            and len(top) > opts.feedback_after and top[0][1] > 0
        )

    def _with_feedback(
        self, top: list[tuple[int, float]], found: np.ndarray, docs: np.ndarray, ctx: "_Context",
    ) -> list[tuple[int, float]]:
        """``top`` (the best hits by score) with the hits past ``feedback_after`` ordered by
        score plus feedback (see SearchOptions). ``found`` holds the query's scores of the
        matching ``docs`` (ascending); each hit keeps its own score."""
        if not self._feedback_wanted(top):
            return top
        opts = self.options
        head = top[: opts.feedback_after]
        terms = self._feedback_terms([d for d, _s in head[: opts.feedback_docs]], found, ctx)
        if not terms:
            return top
        extra = np.zeros(self.doc_count_all)
        for term, weight in terms:
            ids, values = self.word_vector(Word(term, term), [(term, 1.0)])
            extra[ids] += weight * values
        peak = float(extra[docs].max())
        if peak <= 0:
            return top
        ctx.feedback = [t for t, _w in terms]
        fused = found / head[0][1] + extra * (opts.feedback_weight / peak)
        rest = np.ones(len(docs), dtype=bool)
        rest[np.searchsorted(docs, [d for d, _s in head])] = False
        best, _values = _top(fused, docs[rest], len(top) - len(head))
        return head + [(d, float(found[d])) for d in best.tolist()]

    def _feedback_terms(
        self, docnums: list[int], found: np.ndarray, ctx: "_Context",
    ) -> list[tuple[str, float]]:
        """The terms that best characterise ``docnums`` (the best hits), with weights adding
        up to 1: each document gives its terms' shares of its length (a title word counts
        the title's field weight), in proportion to its score; the query's own terms, and
        terms found in one document only or in more than FEEDBACK_MAX_SHARE of them, are
        left out."""
        opts = self.options
        own = set(ctx.term_words())
        own.update(w.term for w in ParsedQuery("", ctx.root).words(positive_only=False))
        best = float(found[docnums[0]])
        weights: dict[str, float] = {}
        for d in docnums:
            stored = self.searcher.stored_fields(d)
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
        most = FEEDBACK_MAX_SHARE * self.doc_count
        chosen: list[tuple[str, float]] = []
        for term, weight in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])):
            if 2 <= self.df(term, FIELDS) <= most:
                chosen.append((term, weight))
                if len(chosen) == opts.feedback_terms:
                    break
        total = sum(w for _t, w in chosen)
        return [(t, w / total) for t, w in chosen]

    def _results(
        self, parsed: ParsedQuery, top: list[tuple[int, float]], total: int, offset: int,
        ctx: "_Context", snippets: bool, fragments: int, fragment_chars: int, typed: ParsedQuery | None,
    ) -> SearchResults:
        hits = []
        for rank, (docnum, score) in enumerate(top, offset + 1):
            hit = self._hit(docnum, score, rank, ctx, snippets, fragments, fragment_chars)
            hits.append(hit)
        # Spelling help is for the words as typed, not for a synonym's.
        suggestion = self.suggest(typed) if typed is not None else None
        return SearchResults(parsed, hits, total, offset, ctx.expansions, suggestion, ctx.feedback)

    def _hit(
        self, docnum: int, score: float, rank: int, ctx: "_Context",
        snippets: bool, fragments: int, fragment_chars: int,
    ) -> Hit:
        stored = self.searcher.stored_fields(docnum)
        terms = sorted(ctx.terms_in(docnum))
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
        if snippets:
            termset = set(terms)
            marks = ctx.highlighting()
            hit.title_spans = [(s, e) for s, e, _t in _matches(title, termset, marks=marks)]
            body = stored.get("body") or ""
            counts = None
            if len(body) > COUNTED_SPANS_CHARS:
                found = {t: self.positions("body", t, {docnum}).get(docnum, ()) for t in termset}
                counts = {t: len(p) for t, p in found.items()}
            pages = stored.get("pages")
            if pages:  # the snippet comes from one page, which the hit names
                from frsearch.pages import choose_page

                hit.page, lo, hi = choose_page(pages, len(body), _matches(body, termset, counts, marks))
                body, counts = body[lo:hi], None
            hit.snippet = make_snippet(body, termset, fragments, fragment_chars, counts, ctx.term_words(), marks)
        return hit


class _Vocabulary:
    """What spelling asks the index (a spelling.Vocabulary)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def doc_frequency(self, term: str) -> int:
        return self.engine._frequency(term, FIELDS)

    def writes(self, term: str, folded: str) -> bool:
        pattern = spelling.written_pattern(folded)
        for docnum in self.engine.term_docs(term, FIELDS)[:WRITTEN_DOCS].tolist():
            stored = self.engine.searcher.stored_fields(docnum)
            if any(pattern.search(stored.get(name) or "") for name in FIELDS):
                return True
        return False

    def written_near(self, term: str, folded: str) -> list[str]:
        found = self.engine.corrections(Word(term, folded, FIELDS, folded=folded), limit=1)
        return [form for form in map(self.engine.surface, ([t] for t in found)) if form]


class _Context:
    """What one query run learnt: which terms matched which documents."""

    def __init__(self, root: Any = None, lenient: bool = False) -> None:
        self.root = root
        #: Whether words that were meant get all their close spellings (the search found
        #: nothing without them), and whether a word had some held back.
        self.lenient = lenient
        self.held_back = False
        #: Documents with every free word of the query (ranked first with all_words_first).
        self.first: set[int] = set()
        self._context: list[str] | None = None
        #: Expansions and scores of each distinct word, computed once per query.
        self.words: dict[tuple, tuple[list[tuple[str, float]], dict[int, float]]] = {}
        #: Expansions of each distinct word (also of those scored only where needed).
        self.expanded: dict[tuple, list[tuple[str, float]]] = {}
        self.typo_budget = MAX_CORRECTED_WORDS
        self.expansions: dict[str, list[str]] = {}
        self._term_words: dict[str, str] | None = None
        self._highlighting: Highlighting | None = None
        self._matched: list[tuple[list[str], Any]] = []
        #: The terms pseudo-relevance feedback ranked the later hits with (if it did).
        self.feedback: list[str] = []
        #: Expansions and score arrays of each distinct word (vectorized evaluation).
        self.vectors: dict[tuple, tuple[list[tuple[str, float]], tuple[np.ndarray, np.ndarray]]] = {}

    def record(
        self,
        word: Word,
        expansions: list[tuple[str, float]],
        scores: Any,
        restrict: set[int] | None = None,
    ) -> None:
        """Note that ``scores`` (anything ``docnum in`` works on) have the word's terms."""
        self._matched.append(([t for t, _ in expansions], scores if restrict is None else restrict))

    def highlighting(self) -> Highlighting:
        """The query's phrases for highlights (computed once per query, after it has run)."""
        if self._highlighting is None:
            self._highlighting = highlighting(self.root, self.expansions)
        return self._highlighting

    def term_words(self) -> dict[str, str]:
        """The query word (as typed) each matched term stands for, once the query has run."""
        if self._term_words is None:
            self._term_words = {t: text for text, found in self.expansions.items() for t in found}
        return self._term_words

    def context_terms(self, engine: "Engine") -> list[str]:
        """Indexed terms of the query's plain words (computed once per query)."""
        if self._context is None:
            words = ParsedQuery("", self.root).words() if self.root is not None else []
            self._context = [
                w.term for w in words
                if not (w.prefix or w.fuzzy) and engine.has_term(w.term, w.fields)
            ]
        return self._context

    def terms_in(self, docnum: int) -> set[str]:
        out: set[str] = set()
        for terms, docs in self._matched:
            if docnum in docs:
                out.update(terms)
        return out


_NEXT = (1).__add__


def _proximity_pairs(clauses: list[Any]) -> list[int]:
    """The i where free clauses i and i + 1 are words that may earn the proximity bonus."""
    out = []
    for i in range(len(clauses) - 1):
        a, b = clauses[i], clauses[i + 1]
        if not (isinstance(a, Word) and isinstance(b, Word)):
            continue
        if a.prefix or a.fuzzy or b.prefix or b.fuzzy or a.fields != b.fields or a.term == b.term:
            continue
        out.append(i)
    return out


def _proximity_terms(word: Word, ctx: _Context) -> list[str]:
    """The terms that stand for a word in the proximity bonus: its first expansions."""
    return [t for t, _w in ctx.expanded.get(_word_key(word)) or [(word.term, 1.0)]][:3]


def _window_words(clauses: list[Any], present: list[bool], minimum: int) -> list[int]:
    """The free clauses the window bonus looks at: plain words found in some document,
    searched in the same fields; none when they are fewer than ``minimum`` or two."""
    out = [
        i for i, c in enumerate(clauses)
        if isinstance(c, Word) and not (c.prefix or c.fuzzy) and present[i]
    ]
    if len(out) < max(2, minimum) or any(clauses[i].fields != clauses[out[0]].fields for i in out):
        return []
    return out


def _proximity_triples(clauses: list[Any]) -> list[int]:
    """The i where free clauses i to i + 2 are three words that may earn the triple bonus."""
    out = []
    for i in range(len(clauses) - 2):
        words = clauses[i : i + 3]
        if not all(isinstance(w, Word) and not (w.prefix or w.fuzzy) for w in words):
            continue
        if len({w.fields for w in words}) > 1 or len({w.term for w in words}) < 3:
            continue
        out.append(i)
    return out


def _scores_key(word: Word, expansions: list[tuple[str, float]]) -> tuple:
    """What the scores of a word are kept under between queries (see Engine.word_scores)."""
    return (tuple(expansions), word.fields)


def _times(scores: dict[int, float], factors: list[float] | None) -> dict[int, float]:
    """Each score times its factor (factors in the scores' order; None: unchanged)."""
    if factors is None:
        return scores
    return dict(zip(scores, map(mul, scores.values(), factors)))


def _add_into(total: dict[int, float], scores: dict[int, float]) -> None:
    """Add ``scores`` into ``total`` (new documents keep their order), with C-level iterators."""
    old = list(filter(total.__contains__, scores))
    new = list(filterfalse(total.__contains__, scores))
    get = scores.__getitem__
    total.update(zip(old, map(add, map(total.__getitem__, old), map(get, old))))
    total.update(zip(new, map(get, new)))


def _best(scores: dict[int, float], k: int, first: set[int]) -> list[tuple[int, float]]:
    """The ``k`` best (docnum, score) pairs: ``first`` documents, then higher scores, then lower docnums."""
    if k <= 0 or not scores:
        return []
    if first:
        return heapq.nlargest(k, scores.items(), key=lambda kv: (kv[0] in first, kv[1], -kv[0]))
    # Plain floats compare in C (a key function is a Python call per document); the
    # documents tied at the cut are then settled by docnum.
    best = heapq.nlargest(k, scores.values())
    cut = best[-1]
    if len(scores) > k:
        kept = list(compress(scores, map(cut.__le__, scores.values())))
        chosen = list(zip(kept, map(scores.__getitem__, kept)))
    else:
        chosen = list(scores.items())
    chosen.sort(key=lambda kv: (-kv[1], kv[0]))
    return chosen[:k]


def _in_order(positions: list[Sequence[int]], reach: int) -> bool:
    """Whether each word follows the previous one at most ``reach`` positions later."""
    if reach == 1 and len(positions) == 2:  # a pair of words side by side (the proximity bonus)
        return not set(positions[1]).isdisjoint(map(_NEXT, positions[0]))
    ends = set(positions[0])
    for following in positions[1:]:
        if len(ends) * reach <= 4 * len(following) + 64:
            # Every position a following word may take, then those it does take.
            ends = {p + k for p in ends for k in range(1, reach + 1)}.intersection(following)
        else:
            starts = sorted(ends)
            ends = set()
            for q in following:
                i = bisect_left(starts, q)  # starts[i - 1] is the closest position before q
                if i and q - starts[i - 1] <= reach:
                    ends.add(q)
        if not ends:
            return False
    return True


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


# ---------------------------------------------------------------------------
# Snippets


_JOINERS = frozenset("-‐‑'’")


def _matches(
    text: str, terms: set[str], counts: dict[str, int] | None = None,
    marks: Highlighting = Highlighting(),
) -> list[tuple[int, int, str]]:
    """Offsets of the words of ``text`` whose term is in ``terms``.

    Matched words joined by a hyphen, an apostrophe or one space make one
    match, so ``États-Unis`` and ``Lei Jun`` are highlighted as written.
    An occurrence of a phrase of ``marks`` is one match; a term only a phrase
    asked for is not a match alone. ``counts`` (how many times the index has
    each term in ``text``) lets long texts be searched without reading every
    word (see counted_spans).
    """
    if not terms or not text:
        return []
    spans = None
    if counts is not None and len(text) > COUNTED_SPANS_CHARS:
        spans = counted_spans(text, {t: counts.get(t, 0) for t in terms})
    if spans is None:
        spans = matched_spans(text, terms)
    if marks.phrases:
        spans = _phrase_spans(text, spans, marks)
    out: list[tuple[int, int, str]] = []
    for start, end, term in spans:
        gap = text[out[-1][1] : start] if out else ""
        if out and (gap in _JOINERS or gap == " "):
            out[-1] = (out[-1][0], end, out[-1][2])
        else:
            out.append((start, end, term))
    return out


def _phrase_spans(
    text: str, spans: list[tuple[int, int, str]], marks: Highlighting
) -> list[tuple[int, int, str]]:
    """Spans with each phrase occurrence made one span, and lone phrase-only terms left out.

    Between two words of an occurrence there may be stopwords and punctuation,
    and up to the phrase's slop other words.
    """
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(spans):
        found = None
        for terms, slop in marks.phrases:
            j = i + len(terms)
            if j > len(spans) or any(spans[i + k][2] != t for k, t in enumerate(terms)):
                continue
            if all(_words_between(text, spans[k][1], spans[k + 1][0]) <= slop for k in range(i, j - 1)):
                found = (spans[i][0], spans[j - 1][1], " ".join(terms)), j
                break
        if found is not None:
            out.append(found[0])
            i = found[1]
            continue
        if spans[i][2] not in marks.phrase_only:
            out.append(spans[i])
        i += 1
    return out


def _words_between(text: str, start: int, end: int, reach: int = 120) -> int:
    """How many indexed words stand between two matched words (a large number when far apart)."""
    if end - start > reach:
        return reach
    return sum(1 for word in analyze(text[start:end]) if word.term)


_SPACE_RE = re.compile(r"\s+")


def make_snippet(
    body: str, terms: set[str], fragments: int = 3, width: int = 180,
    counts: dict[str, int] | None = None, words: dict[str, str] | None = None,
    marks: Highlighting = Highlighting(),
) -> Snippet:
    """Up to ``fragments`` pieces of ``body`` around the matched terms, joined with " … ".

    ``counts``: how many times the index has each term in ``body`` (see _matches).
    ``words``: the query word each term stands for (a word's related forms and
    spellings count as that word when fragments are chosen). ``marks``: the
    query's phrases, highlighted (and chosen around) as whole occurrences.
    """
    word = (words or {}).get
    matches = _matches(body, terms, counts, marks)
    if not matches:
        return _fragment_text(body, 0, min(len(body), width), [])
    # Score windows starting at each match: distinct terms first, then occurrences.
    # Matches do not overlap, so their starts and ends both ascend.
    starts = [m[0] for m in matches]
    ends = [m[1] for m in matches]
    candidates = []
    for i, start in enumerate(starts):
        # The window shown for this match (see below), and the matches it holds.
        lo = max(0, start - width // 4)
        inside = matches[bisect_left(starts, lo) : bisect_right(ends, min(len(body), lo + width))]
        distinct = len({word(m[2], m[2]) for m in inside})
        candidates.append((distinct, len(inside), -start, i))
    chosen: list[tuple[int, int]] = []
    covered: set[str] = set()
    for distinct, count, neg_start, i in sorted(candidates, reverse=True):
        start = -neg_start
        lo = max(0, start - width // 4)
        hi = min(len(body), lo + width)
        if any(not (hi <= a or lo >= b) for a, b in chosen):
            continue
        inside = matches[bisect_left(starts, lo) : bisect_right(ends, hi)]
        new_terms = {word(m[2], m[2]) for m in inside if lo <= m[0] and m[1] <= hi}
        if chosen and not (new_terms - covered) and len(chosen) >= 1:
            continue
        chosen.append((lo, hi))
        covered |= new_terms
        if len(chosen) >= fragments:
            break
    chosen.sort()
    text = ""
    spans: list[tuple[int, int]] = []
    for lo, hi in chosen:
        piece = _fragment_text(body, lo, hi, matches)
        if text.endswith("…") and piece.text.startswith("…"):
            text = text[:-1].rstrip() + " "
        offset = len(text)
        text += piece.text
        spans.extend((s + offset, e + offset) for s, e in piece.spans)
    return Snippet(text, spans)


def _fragment_text(body: str, lo: int, hi: int, matches: list[tuple[int, int, str]]) -> Snippet:
    """The text of body[lo:hi] with whitespace folded, cut at word boundaries."""
    # Move the edges to word boundaries, never cutting a highlighted word.
    if lo > 0:
        space = body.rfind(" ", max(0, lo - 20), lo + 1)
        newline = body.rfind("\n", max(0, lo - 60), lo + 1)
        lo = max(space, newline) + 1 if max(space, newline) >= 0 else lo
    if hi < len(body):
        # The matches the window holds stay in it.
        held = max((end for start, end, _t in matches if lo <= start and end <= hi), default=lo)
        space = body.find(" ", max(held, hi - 20) if hi - 20 > lo else hi)
        hi = space if 0 <= space < hi + 20 else hi
    for start, end, _t in matches:
        if start < hi < end:
            hi = end
    pieces: list[str] = []
    spans: list[tuple[int, int]] = []
    cursor = lo
    length = 0

    def emit(segment: str) -> None:
        nonlocal length
        folded = _SPACE_RE.sub(" ", segment)
        if not pieces:
            folded = folded.lstrip()
        pieces.append(folded)
        length += len(folded)

    for start, end, _term in matches:
        if start < lo or end > hi:
            continue
        emit(body[cursor:start])
        spans.append((length, length + (end - start)))
        emit(body[start:end])
        cursor = end
    emit(body[cursor:hi])
    text = "".join(pieces).rstrip()
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(body) else ""
    if prefix:
        spans = [(s + len(prefix), e + len(prefix)) for s, e in spans]
    return Snippet(prefix + text + suffix, spans)
