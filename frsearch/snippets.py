"""Highlighting: the passages of a document shown for a hit, and the spans of its words.

A snippet is up to three fragments of the body around the matched terms, chosen for the
distinct query words they hold, then for their matches; whitespace is folded and edges are
moved to word boundaries. Spans are character offsets into the snippet's text, found on
the original text (accents, case and elisions as written).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from frsearch.analysis import analyze, counted_spans, matched_spans
from frsearch.query import Node, Phrase, Word, children

__all__ = ["COUNTED_SPANS_CHARS", "Highlighting", "Snippet", "highlighting", "make_snippet", "word_matches"]

#: Texts longer than this are searched for a hit's terms with counted_spans.
COUNTED_SPANS_CHARS = 1000


@dataclass
class Snippet:
    """A piece of text with highlighted spans (character offsets into ``text``)."""

    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Highlighting:
    """What a hit highlights: the query's phrases as runs of terms, and the terms found alone.

    A term that only a phrase asked for is highlighted where the phrase is, not alone.
    """

    phrases: tuple[tuple[tuple[str, ...], int], ...] = ()  # (terms, slop)
    phrase_only: frozenset[str] = frozenset()


def highlighting(root: Node | None, expansions: dict[str, list[str]]) -> Highlighting:
    """The phrases (quoted, or of a synonym) among the positive clauses of a query tree;
    ``expansions``: the terms each word (as typed) was searched as."""
    phrases: list[tuple[tuple[str, ...], int]] = []
    alone: set[str] = set()

    def visit(node: Node) -> None:
        if isinstance(node, Word):
            alone.add(node.term)
            alone.update(expansions.get(node.text, ()))
        elif isinstance(node, Phrase) and not node.split:  # a hyphenated word's parts count alone
            phrases.append((tuple(w.term for w in node.words), node.slop))
        else:
            for child in children(node):
                visit(child)

    if root is not None:
        visit(root)
    only = {t for terms, _slop in phrases for t in terms} - alone
    return Highlighting(tuple(dict.fromkeys(phrases)), frozenset(only))


_JOINERS = frozenset("-‐‑'’")


def word_matches(
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

    ``counts``: how many times the index has each term in ``body`` (see word_matches).
    ``words``: the query word each term stands for (a word's related forms and
    spellings count as that word when fragments are chosen). ``marks``: the
    query's phrases, highlighted (and chosen around) as whole occurrences.
    """
    word = (words or {}).get
    matches = word_matches(body, terms, counts, marks)
    if not matches:
        return _fragment_text(body, 0, min(len(body), width), [])
    # Score windows starting at each match: distinct terms first, then occurrences.
    # Matches do not overlap, so their starts and ends both ascend.
    starts = [m[0] for m in matches]
    ends = [m[1] for m in matches]
    keys = [word(m[2], m[2]) for m in matches]  # the query word each match counts as
    candidates = []
    # The window shown for each match (see below) holds matches[first:last]; both ends only
    # move on from one match to the next, so the words inside are counted as they enter
    # and leave.
    held: dict[str, int] = {}
    first = last = 0
    for i, start in enumerate(starts):
        lo = max(0, start - width // 4)
        begin = bisect_left(starts, lo)
        end = max(begin, bisect_right(ends, min(len(body), lo + width)))
        for key in keys[last:end]:
            held[key] = held.get(key, 0) + 1
        for key in keys[first:begin]:
            held[key] -= 1
            if not held[key]:
                del held[key]
        first, last = begin, end
        candidates.append((len(held), end - begin, -start, i))
    chosen: list[tuple[int, int]] = []
    covered: set[str] = set()
    every = set(keys)
    for distinct, count, neg_start, i in sorted(candidates, reverse=True):
        if chosen and covered >= every:
            break  # no window left can bring a word not shown yet
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
