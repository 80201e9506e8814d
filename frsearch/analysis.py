"""The French analyzer: tokenize, strip elisions, fold, drop stopwords, stem.

One analyzer serves documents and queries, so whatever a user types meets the
words the way they are written. Each term keeps the character offsets of the
original text, so highlights land on the accented words as written.

The pipeline is a Whoosh ``Tokenizer | Filter | ...`` chain. Whoosh pickles
the analyzer into the index schema, so the classes here live at module level
and hold only plain data: their import paths are part of the on-disk format.

Folding happens before stemming, so an accented spelling and its unaccented
spelling always give the same term (``université`` and ``universite``).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from array import array
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Collection, Iterator

import snowballstemmer
from unidecode import unidecode
from whoosh.analysis import Composable, Filter, Token, Tokenizer
from whoosh.formats import Positions
from whoosh.system import _INT_SIZE, pack_uint

__all__ = [
    "ELISIONS",
    "LEGAL_REFERENCE",
    "STOPWORDS",
    "AnalyzedTerm",
    "FrenchAnalyzer",
    "FrenchPositions",
    "analyze",
    "fold",
    "stem",
    "term_of",
    "term_positions",
    "term_spans",
    "matched_spans",
    "counted_spans",
]

# Combining marks count as word characters, so decomposed (NFD) text stays in one token.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_WORD = rf"(?:[^\W_]|[{_MARKS}])+"
_APOSTROPHES = "'\u2019\u02bc\u2018"
#: An ordinal's suffix written after a space (13 ème, 1 er): its e may be accented,
#: composed or not. The query parser keeps such an ordinal in one piece too.
SPACED_ORDINAL = r"[ \u00a0\u202f](?i:i?(?:e\u0300?|è)mes?|(?:e\u0300?|è)res?|ers?)"
#: A French legal reference's letter and number, however written: ``L. 3142-1``, ``L 3142-1``
#: and ``L3142-1`` all give ``l3142`` then ``1`` (likewise R. and D. articles of the codes).
#: The query parser keeps a spaced one in one piece too.
LEGAL_REFERENCE = r"(?<![^\W_])[LRDlrd]\.?[ \u00a0\u202f]?\d{3,}(?![^\W_])"
# A number with decimal or thousands separators stays one token (7,7 and 1.000),
# and so does an ordinal whose suffix follows a space.
_TOKEN_RE = re.compile(
    rf"{LEGAL_REFERENCE}|\d+(?:(?:[.,]\d+)+|{SPACED_ORDINAL})(?![^\W_])|{_WORD}(?:[{_APOSTROPHES}]{_WORD})*"
)
_APOSTROPHE_RE = re.compile(f"[{_APOSTROPHES}]")

#: Elided words stripped from the front of a word (``l'État`` -> ``État``).
ELISIONS = frozenset(
    "l d j m n s t c qu jusqu lorsqu puisqu quoiqu".split()
)
_ELISION_RE = re.compile(
    rf"^(?:{'|'.join(sorted(ELISIONS, key=len, reverse=True))})[{_APOSTROPHES}]",
    re.IGNORECASE,
)


def _load_stopwords() -> frozenset[str]:
    # Read beside this file: importlib.resources would add about 20 ms to every start.
    text = (Path(__file__).parent / "data" / "stopwords_fr.txt").read_text("utf-8")
    words = set()
    for line in text.splitlines():
        words.update(fold(word) for word in line.split("#", 1)[0].split())
    return frozenset(words)


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Fold a word to lowercase ASCII: accents and ligatures go (``Œuvre`` -> ``oeuvre``).

    Decomposed and composed spellings fold alike. Characters that transliterate
    to punctuation or spaces (some scripts do) are dropped, except the separators
    inside a number (``7,7``). Ordinals and roman numerals become their number,
    so every way of writing one meets: ``13ème``, ``13e``, ``13 eme`` and
    ``XIIIe`` fold to ``13``; ``1er``, ``1ère`` and ``Ier`` to ``1``.
    """
    written = unidecode(unicodedata.normalize("NFC", text))
    folded = written.lower()
    if not folded.isalnum():
        if folded[:1].isdigit() and _NUMBER_RE.fullmatch(folded):
            return folded
        folded = "".join(ch for ch in folded if ch.isalnum())
    if folded[:1].isdigit():
        return _ordinal_number(folded) or folded
    if written[:1] in _ROMAN_DIGITS:
        return _roman_number(written) or folded
    return folded


_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)+")
# Folded ordinals: 13e, 13eme, 13ieme (and "13 ème", joined by fold), 1er, 1ere, 1re,
# 2nd, 2nde, and their plurals.
_ORDINAL_RE = re.compile(r"(\d+)(?:i?eme|e|(er|ere|re)|(nde?))s?")
# Roman numerals as written, before lowercasing: an uppercase numeral of I, V and X,
# of two letters or more (XIX, IV) or with an ordinal suffix (XIXe, XIXème, Ve, Ier, Ière).
# Single capitals alone (I, V, X) stay letters.
_ROMAN_RE = re.compile(r"([IVX]+)(?:(i?eme|e)|(er|ere))?")
_ROMAN_DIGITS = {"I": 1, "V": 5, "X": 10}


def _ordinal_number(folded: str) -> str | None:
    """The number of a folded ordinal (``13eme`` -> ``13``), or None for anything else."""
    match = _ORDINAL_RE.fullmatch(folded)
    if match is None:
        return None
    number, first, second = match.groups()
    number = number.lstrip("0") or "0"
    if (first and number != "1") or (second and number != "2"):
        return None  # 3er, 4nd: not ordinals
    return number


def _roman_number(written: str) -> str | None:
    """The number of a roman numeral or ordinal as written (``XIXe`` -> ``19``), or None."""
    match = _ROMAN_RE.fullmatch(written)
    if match is None:
        return None
    numeral, other, first = match.groups()
    if len(numeral) == 1 and not (other or first):
        return None
    value = 0
    for i, letter in enumerate(numeral):
        digit = _ROMAN_DIGITS[letter]
        following = _ROMAN_DIGITS[numeral[i + 1]] if i + 1 < len(numeral) else 0
        value += -digit if digit < following else digit
    if value > 39 or _roman(value) != numeral or (first and value != 1):
        return None  # XXXX, IIX, VV, IIer: not a numeral of I, V and X, or not an ordinal
    return str(value)


def _roman(value: int) -> str:
    """``value`` (1 to 39) in roman numerals, in their one canonical spelling."""
    out = []
    for digit, letters in ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while value >= digit:
            out.append(letters)
            value -= digit
    return "".join(out)


_STEMMER = snowballstemmer.stemmer("french")


@lru_cache(maxsize=200_000)
def stem(folded: str) -> str:
    """Snowball French stem of an already folded word; numbers are kept as they are.

    Folding hides the accent of a feminine ``-ée``/``-ées`` (``salariee``), which
    Snowball would then stem apart from ``-é``/``-és`` (``salarie``); such an
    ending is read as ``-e``/``-es`` first, so ``salariée`` meets ``salarié``.
    """
    if not folded or folded[0].isdigit():
        return folded
    if len(folded) >= 5:
        if folded.endswith("ee"):
            folded = folded[:-1]
        elif folded.endswith("ees"):
            folded = folded[:-2] + "s"
    return _STEMMER.stemWord(folded)


# ---------------------------------------------------------------------------
# Whoosh pipeline pieces


class FrenchTokenizer(Tokenizer):
    """Split text into words, keeping apostrophes inside words and numbers whole.

    Hyphens and other punctuation separate words, so ``États-Unis`` gives two
    consecutive words.
    """

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar = start_char
                token.endchar = start_char + len(value)
            yield token
            return
        pos = start_pos
        for match in _TOKEN_RE.finditer(value):
            token.text = match.group()
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = token.text
            if positions:
                token.pos = pos
                pos += 1
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            yield token


class ElisionFilter(Filter):
    """Strip elided articles and pronouns (``l'``, ``qu'``, ``jusqu'``...), with ' or ’.

    Any apostrophe left inside a word is dropped, so ``aujourd'hui`` and
    ``aujourdhui`` are one term.
    """

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            text = token.text
            if _APOSTROPHE_RE.search(text):
                stripped = _strip_elisions(text)
                if token.chars:
                    token.startchar += len(text) - len(stripped)
                token.text = _APOSTROPHE_RE.sub("", stripped)
            yield token


def _strip_elisions(text: str) -> str:
    while True:
        match = _ELISION_RE.match(text)
        if match is None or match.end() == len(text):
            return text
        text = text[match.end():]


class FoldFilter(Filter):
    """Fold accents, ligatures and case with unidecode (``États`` -> ``etats``)."""

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            token.text = fold(token.text)
            yield token


class FrenchStopFilter(Filter):
    """Drop French stopwords (on folded words) and empty words.

    Positions are renumbered over the words that remain, so a phrase query
    written with or without its stopwords matches the same text.
    """

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        pos = None
        for token in tokens:
            text = token.text
            if token.positions and pos is None:
                pos = token.pos - 1
            if not text or text in STOPWORDS:
                if token.removestops:
                    continue
                token.stopped = True
                yield token
                continue
            token.stopped = False
            if token.positions:
                pos += 1
                token.pos = pos
            yield token


class FrenchStemFilter(Filter):
    """Stem folded words with Snowball French (through PyStemmer when installed)."""

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            if not token.stopped:
                token.text = stem(token.text)
            yield token


def FrenchAnalyzer() -> Composable:
    """The whole French analysis chain, as a Whoosh analyzer."""
    return (
        FrenchTokenizer()
        | ElisionFilter()
        | FoldFilter()
        | FrenchStopFilter()
        | FrenchStemFilter()
    )


STOPWORDS = _load_stopwords()


# ---------------------------------------------------------------------------
# The same analysis, fused, for indexing speed

_MISSING = object()
_TERM_CACHE: dict[str, str | None] = {}
_TERM_CACHE_LIMIT = 500_000


@lru_cache(maxsize=200_000)
def _read_word(raw: str) -> tuple[int, str, str, str | None, str | None]:
    """One tokenizer match read as French: the length of its elided prefix, the word
    without it, its folded form, its term (None when dropped) and why it is dropped."""
    word = _strip_elisions(raw) if _APOSTROPHE_RE.search(raw) else raw
    folded = fold(_APOSTROPHE_RE.sub("", word))
    dropped = "empty" if not folded else "stopword" if folded in STOPWORDS else None
    return len(raw) - len(word), word, folded, None if dropped else stem(folded), dropped


def term_positions(text: str) -> dict[str, list[int]]:
    """{term: positions} of a text: exactly what FrenchAnalyzer indexes, computed in one pass."""
    out: dict[str, list[int]] = {}
    cache = _TERM_CACHE
    pos = 0
    for raw in _TOKEN_RE.findall(text):
        term = cache.get(raw, _MISSING)
        if term is _MISSING:
            term = _read_word(raw)[3]
            if len(cache) < _TERM_CACHE_LIMIT:
                cache[raw] = term  # type: ignore[assignment]
        if term is None:
            continue
        positions = out.get(term)  # type: ignore[arg-type]
        if positions is None:
            out[term] = [pos]  # type: ignore[index]
        else:
            positions.append(pos)
        pos += 1
    return out


def term_counts(text: str) -> Counter[str]:
    """{term: occurrences} of a text (as :func:`term_positions`, without the positions)."""
    out: Counter[str] = Counter()
    cache = _TERM_CACHE
    for raw, count in Counter(_TOKEN_RE.findall(text)).items():
        term = cache.get(raw, _MISSING)
        if term is _MISSING:
            term = _read_word(raw)[3]
            if len(cache) < _TERM_CACHE_LIMIT:
                cache[raw] = term  # type: ignore[assignment]
        if term is not None:
            out[term] += count  # type: ignore[index]
    return out


def term_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, term) of each indexed word of ``text``: offsets as :func:`analyze` gives."""
    out: list[tuple[int, int, str]] = []
    for match in _TOKEN_RE.finditer(text):
        skip, _word, _folded, term, _dropped = _read_word(match.group())
        if term is not None:
            out.append((match.start() + skip, match.end(), term))
    return out


def matched_spans(text: str, terms: Collection[str]) -> list[tuple[int, int, str]]:
    """The spans of :func:`term_spans` whose term is in ``terms``, read with C-level iterators.

    Snippets look for a few terms in whole documents; this reads each word once
    through the cached :func:`_read_word` without a Python step per word.
    """
    found = list(_TOKEN_RE.finditer(text))
    reads = list(map(_read_word, map(_GROUP, found)))
    wanted = compress(range(len(found)), map(terms.__contains__, map(_TERM, reads)))
    return [(found[i].start() + reads[i][0], found[i].end(), reads[i][3]) for i in wanted]  # type: ignore[misc]


def counted_spans(text: str, counts: dict[str, int]) -> list[tuple[int, int, str]] | None:
    """The spans of :func:`matched_spans` for the terms of ``counts``, found without reading
    every word: None unless each term is found exactly ``counts[term]`` times.

    The places where a word may start with a term are found with ``bytes.find``
    in a folded copy of the text (one byte a character: Latin-1 letters lowered
    and stripped of their accents, other characters ``?``); only the words found
    there are read. A term whose words do not all start with it (``cheval`` from
    ``chevaux``) is found fewer times than the index counted, and the caller then
    reads the whole text: the answer is never a guess. Numbers always take that road.
    """
    if not counts:
        return []
    if not all(term.isalpha() and term.isascii() for term in counts):
        return None
    folded = text.encode("latin-1", "replace").translate(_FOLDED_BYTES)
    spans: dict[int, tuple[int, int, str]] = {}
    for needle in {term.lower().encode("ascii") for term in counts}:
        at = folded.find(needle)
        while at >= 0:
            if not (at and _LETTER_OR_DIGIT.match(text, at - 1)):  # where a word may start
                found = _word_from(text, at)
                if found is None:
                    return None
                start, span = found
                if span[2] in counts:
                    spans[start] = span
            at = folded.find(needle, at + 1)
    found: dict[str, int] = {}
    for _start, _end, term in spans.values():
        found[term] = found.get(term, 0) + 1
    if found != {t: n for t, n in counts.items() if n}:
        return None
    return sorted(spans.values())


def _word_from(text: str, at: int) -> tuple[int, tuple[int, int, str | None]] | None:
    """The token that holds the word starting at ``at`` (an elided article may come first):
    (where the token starts, its span as term_spans gives it), or None when that cannot be
    read without reading the text from its start."""
    start = at
    while start and (text[start - 1] in _WORD_JOINERS or _WORD_CHAR.match(text, start - 1)):
        start -= 1
    while start < at and text[start] in _WORD_JOINERS:
        start += 1
    if start >= 2 and text[start - 1] in _NUMBER_SPACES and text[start - 2].isdigit():
        digits = start - 2
        while digits and text[digits - 1].isdigit():
            digits -= 1
        number = _TOKEN_RE.match(text, digits)
        if number is not None and number.end() > start:
            return None  # the suffix of a spaced ordinal ("13 ème"), one token with its number
    token = _TOKEN_RE.match(text, start)
    if token is None or token.end() <= at:
        return None
    skip, _word, _folded, term, _dropped = _read_word(token.group())
    return start, (start + skip, token.end(), term)


def _folded_bytes() -> bytes:
    """A bytes.translate table: each Latin-1 letter to the lower-case ASCII letter it folds to."""
    table = bytearray(range(256))
    for code in range(256):
        folded = fold(chr(code))
        if len(folded) == 1 and folded.isascii() and folded.isalpha():
            table[code] = ord(folded.lower())
    return bytes(table)


_FOLDED_BYTES = _folded_bytes()
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_WORD_JOINERS = _APOSTROPHES
_NUMBER_SPACES = " \u00a0\u202f"
_WORD_CHAR = re.compile(rf"[^\W_]|[{_MARKS}]")
_GROUP = methodcaller("group")
_TERM = itemgetter(3)
_BIG_ENDIAN = sys.byteorder == "big"


class FrenchPositions(Positions):
    """Whoosh's Positions format, fed by :func:`term_positions` instead of Token objects.

    Indexing gives the same postings as running FrenchAnalyzer (a test checks
    it); queries and highlighting still use the analyzer.
    """

    def word_values(self, value: str, analyzer: object, **kwargs: object) -> Iterator[tuple]:
        boost = self.field_boost
        encode = self.encode
        for term, positions in term_positions(value).items():
            yield (term, len(positions), len(positions) * boost, encode(positions))

    def index_items(self, value: str) -> list[tuple[bytes, int, float, bytes]]:
        """What Whoosh's ``TEXT.index(value)`` yields with this format, as one list."""
        boost = self.field_boost
        encode = self.encode
        return [
            (term.encode("utf-8"), len(positions), len(positions) * boost, encode(positions))
            for term, positions in term_positions(value).items()
        ]

    def encode(self, poslist: list[int]) -> bytes:
        # Whoosh's Positions value starts with the count (which its other decoders read);
        # the positions follow as unsigned 32-bit integers, little-endian, instead of a
        # pickled list of deltas: queries decode them with one C call (the positions of
        # every candidate of a phrase or of the proximity bonus).
        positions = array("I", poslist)
        if _BIG_ENDIAN:
            positions.byteswap()
        return pack_uint(len(poslist)) + positions.tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        positions = array("I")
        positions.frombytes(valuestring[_INT_SIZE:])
        if _BIG_ENDIAN:
            positions.byteswap()
        return positions.tolist()


# ---------------------------------------------------------------------------
# Plain-Python view of the analysis, for apps and for debugging


@dataclass(frozen=True)
class AnalyzedTerm:
    """One word of a text as frsearch sees it.

    ``term`` is what goes into the index (``None`` when the word is dropped);
    ``start``/``end`` are character offsets into the original text; ``position``
    counts the indexed words (stopwords do not take a position).
    """

    original: str
    folded: str
    term: str | None
    start: int
    end: int
    position: int | None
    dropped: str | None = None  # "stopword" or "empty", when the word is not indexed
    elision: str | None = None  # the elided prefix stripped, such as "l'"


def analyze(text: str, keep_stopwords: bool = False) -> list[AnalyzedTerm]:
    """Analyze ``text`` and return its words with their terms and offsets.

    With ``keep_stopwords``, dropped words are included with ``term=None``.
    """
    out: list[AnalyzedTerm] = []
    position = 0
    for match in _TOKEN_RE.finditer(text):
        raw = match.group()
        skip, word, folded, term, dropped = _read_word(raw)
        elision = raw[:skip] or None
        start = match.start() + skip
        if dropped:
            if keep_stopwords:
                out.append(
                    AnalyzedTerm(word, folded, None, start, match.end(), None, dropped, elision)
                )
            continue
        out.append(AnalyzedTerm(word, folded, term, start, match.end(), position, None, elision))
        position += 1
    return out


def term_of(word: str) -> str | None:
    """The index term of a single word, or ``None`` when it is not indexed."""
    terms = [t.term for t in analyze(word)]
    return terms[0] if len(terms) == 1 else None
