"""The query language: a lexer and a parser that turn a query string into a typed tree.

Query syntax (English and French operators)::

    xiaomi facebook          free words: any of them, more of them ranking higher
    "lei jun" / "lei jun"~2  phrase; ~N lets up to N other words in between
    a AND b, a ET b, +a      required
    a OR b, a OU b           either
    NOT a, SAUF a, -a        excluded
    ( ... )                  grouping
    title:word, titre:word   one field (title/titre, body/texte/contenu)
    smart*                   prefix (two letters at least)
    xiaomy~, xiaomy~2        fuzzy: up to 1 (or N) edits

The tree has one node type per kind: :class:`Word` (one analyzed word), :class:`Phrase`
(consecutive words), :class:`Group` (required, free and excluded clauses of one level) and
:class:`Either` (OR). :func:`walk` is the one traversal of it. Every word goes through the
same French analyzer as the documents. Malformed input is read as far as it can be, with a
note; a query with nothing searchable left raises :class:`~frsearch.errors.QueryError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Union

from frsearch.analysis import LEGAL_REFERENCE, SPACED_ORDINAL, analyze
from frsearch.errors import QueryError

__all__ = [
    "FIELDS", "Either", "Group", "Node", "ParsedQuery", "Phrase", "Word", "distinct", "parse_query",
    "walk", "word_key",
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
MIN_PREFIX = 2
#: Wildcard and fuzzy words each scan the vocabulary: a query may hold this many.
MAX_EXPANDED_WORDS = 16


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

    @property
    def plain(self) -> bool:
        """Neither a prefix nor a fuzzy word: searched as its term and its expansions."""
        return not (self.prefix or self.fuzzy)


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

    must: list[Node] = field(default_factory=list)
    should: list[Node] = field(default_factory=list)
    must_not: list[Node] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"+{c.describe()}" for c in self.must]
        parts += [c.describe() for c in self.should]
        parts += [f"-{c.describe()}" for c in self.must_not]
        return "(" + " ".join(parts) + ")"


@dataclass
class Either:
    """Any of the clauses (OR / OU)."""

    clauses: list[Node]

    def describe(self) -> str:
        return "(" + " OR ".join(c.describe() for c in self.clauses) + ")"


Node = Union[Word, Phrase, Group, Either]


def children(node: Node, positive_only: bool = True) -> list[Node]:
    """The nodes directly under ``node`` (a group's excluded ones unless ``positive_only``)."""
    if isinstance(node, Phrase):
        return list(node.words)
    if isinstance(node, Group):
        return node.must + node.should + ([] if positive_only else node.must_not)
    if isinstance(node, Either):
        return list(node.clauses)
    return []


def walk(node: Node | None, positive_only: bool = True) -> Iterator[Node]:
    """``node`` and every node under it, depth first, in the query's order."""
    if node is None:
        return
    yield node
    for child in children(node, positive_only):
        yield from walk(child, positive_only)


def words_of(node: Node | None, positive_only: bool = True) -> list[Word]:
    """The words of a tree, each once (a split word's parts appear twice in it)."""
    out: list[Word] = []
    for inner in walk(node, positive_only):
        if isinstance(inner, Word) and not any(word is inner for word in out):
            out.append(inner)
    return out


@dataclass
class ParsedQuery:
    """A parsed query: its tree, its words, and any notes about what was ignored."""

    text: str
    root: Node | None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return self.root.describe() if self.root is not None else ""

    def words(self, positive_only: bool = True) -> list[Word]:
        return words_of(self.root, positive_only)


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

    def parse(self) -> Node | None:
        node = self.parse_or()
        while self.peek() is not None:  # a stray ")"
            self.i += 1
            self.notes.append("unbalanced ')': ignored")
            more = self.parse_or()
            node = _merge_groups(node, more)
        return node

    def parse_or(self) -> Node | None:
        clauses = [self.parse_and()]
        while (lx := self.peek()) is not None and lx.kind == "op" and lx.text == "OR":
            self.i += 1
            clauses.append(self.parse_and())
        clauses = [c for c in clauses if c is not None]
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else Either(clauses)

    def parse_and(self) -> Node | None:
        group = Group()
        required_next = False
        last_should: Node | None = None
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

    def parse_unary(self) -> tuple[Node | None, str]:
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


def _merge_groups(a: Node | None, b: Node | None) -> Node | None:
    if a is None:
        return b
    if b is None:
        return a
    return Group(should=[a, b])


def _restrict(node: Node, fields: tuple[str, ...]) -> Node:
    """The node with every word and phrase in it searched in ``fields`` only."""
    for inner in walk(node, positive_only=False):
        if isinstance(inner, (Word, Phrase)):
            inner.fields = fields
    return node


def _words_of(text: str, fields: tuple[str, ...]) -> list[Word]:
    return [Word(t.term, t.original, fields, folded=t.folded) for t in analyze(text) if t.term]


def _node(words: list[Word], slop: int, fields: tuple[str, ...], text: str, notes: list[str],
          empty: str | None) -> Word | Phrase | None:
    """One word, a phrase of several (consecutive unless ``slop``), or None with a note (unless
    ``empty`` is None)."""
    if not words:
        if text.strip() and empty is not None:
            notes.append(empty)
        return None
    if len(words) == 1:
        return words[0]
    return Phrase(words, slop, fields, text)


def _phrase_node(text: str, slop: int, fields: tuple[str, ...], notes: list[str]) -> Node | None:
    empty = f'"{text.strip()}" has only stopwords or punctuation: ignored'
    return _node(_words_of(text, fields), slop, fields, text, notes, empty)


def _word_node(text: str, fields: tuple[str, ...], notes: list[str], quiet: bool = False) -> Node | None:
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
    expanded = {word_key(w) for w in parsed.words(positive_only=False) if w.prefix or w.fuzzy}
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


def distinct(clauses: list[Node]) -> list[Node]:
    """The clauses with repeated words kept once (``xiaomi xiaomi`` searches ``xiaomi``)."""
    seen: set[tuple] = set()
    out = []
    for clause in clauses:
        if isinstance(clause, Word):
            key = word_key(clause)
            if key in seen:
                continue
            seen.add(key)
        out.append(clause)
    return out


def word_key(word: Word) -> tuple:
    """What makes two words of a query the same search."""
    return (word.term, word.folded if (word.prefix or word.fuzzy) else "", word.fields,
            word.prefix, word.fuzzy)
