"""Spelling: which query words may be mistyped, and "did you mean" in the user's own words.

A word is taken as mistyped only when nothing says it was meant (see :func:`protection`):
it is not a question word, an acronym written in capitals (``CSE``), a number or reference
(``L1234-5``), a French word (one of pyspellchecker's French frequency list, 134,000 folded
words from film subtitles, MIT, read the first time a word needs it; or such a word with an
inflection ending), an abbreviation (the start of a French word three letters longer:
``resto``), nor a word the documents write as typed. A name (a capitalised word after the
first, a lone capitalised word, or a word with capitals inside) is corrected only to a name
the documents write.

A correction is the most frequent French word one edit away (see :func:`edit_kind` and
:func:`_allowed` for the limits), whose index term the index has, when no word of another
term one edit away is within AMBIGUOUS_RATIO of its frequency. The suggestion is the query
as typed, with only the corrected words replaced: stopwords, punctuation, case, operators,
quotes and fields are kept. Accents, case, hyphens and apostrophes are never corrected on
their own: the analyzer already reads ``conges``, ``congés`` and ``CONGÉS`` alike.

The ranking asks :func:`close_spellings_kept` which close spellings of a word the index
lacks it may search.
"""

from __future__ import annotations

import bisect
import importlib.util
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Protocol, Sequence

from frsearch.analysis import ELISIONS, AnalyzedTerm, analyze, fold, stem

__all__ = [
    "AMBIGUOUS_RATIO",
    "Vocabulary",
    "edit_kind",
    "edits1",
    "close_spellings_kept",
    "same_family",
    "MIN_LENGTH_NEW_TERM",
    "Lexicon",
    "lexicon",
    "names",
    "protection",
    "suggest",
    "written_forms",
    "writes_form",
]

#: A correction to another index term (one that changes what is searched) needs a word of
#: this many letters at least: shorter words have too many real words one edit away
#: (``resto``, ``excel``, ``macron`` are each one edit from a common word of the index).
MIN_LENGTH_NEW_TERM = 7
#: Two index terms are of one family when they begin alike for this many letters at least
#: (the length SearchOptions.related_min_length uses for related forms).
FAMILY_PREFIX = 5
#: A word that begins a French word this many letters longer is an abbreviation.
ABBREVIATED_BY = 3
#: Endings that make a known French word into another form of it: a word the lexicon lacks
#: that is a known word with one of them (``allaitante``) is taken as French.
INFLECTIONS = ("e", "s", "es", "x")
#: Two candidates of different terms at the same distance are a guess unless the first is
#: this many times more frequent in the lexicon than the second.
AMBIGUOUS_RATIO = 10
#: The longest word looked at (no French word is longer).
MAX_LENGTH = 30

# The lexicon's accented letters, folded as analysis.fold folds them (fold itself, through
# unidecode, takes about a second on the whole list); apostrophes and hyphens are dropped.
_FOLD_TABLE = str.maketrans(
    {**dict(zip("àâäçèéêëîïôöùûüÿœæ", "aaaceeeeiioouuuy")), "œ": "oe", "æ": "ae",
     "'": None, "’": None, "-": None}
)
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _key(word: str) -> str:
    lowered = word.lower().translate(_FOLD_TABLE)
    return lowered if _PLAIN.issuperset(lowered) else fold(lowered).replace("'", "")


class Lexicon:
    """French words by folded form, each with its most frequent spelling and frequency."""

    def __init__(self, frequencies: dict[str, int]) -> None:
        # Least frequent first, so that the most frequent spelling of a folded form wins.
        words = sorted(frequencies, key=frequencies.__getitem__)
        # Folded in one pass over all the words joined (a word at a time is ten times slower).
        keys = "\n".join(words).lower().translate(_FOLD_TABLE).split("\n")
        if len(keys) != len(words):  # a word with a line break in it: one at a time
            keys = list(map(_key, words))
        keys = [key if key.isascii() else _key(word) for key, word in zip(keys, words)]
        entries = dict(zip(keys, zip(map(frequencies.__getitem__, words), words)))
        entries.pop("", None)
        self._entries = entries
        self._sorted: list[str] | None = None

    def __contains__(self, folded: object) -> bool:
        return isinstance(folded, str) and folded.replace("'", "").replace("-", "") in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def frequency(self, folded: str) -> int:
        return self._entries.get(folded, (0, ""))[0]

    def spelling(self, folded: str) -> str:
        """The most frequent way the lexicon writes a folded word (with its accents)."""
        return self._entries.get(folded, (0, folded))[1]

    def near(self, folded: str) -> list[str]:
        """Lexicon words one edit away from ``folded``: a letter added, dropped or replaced,
        two neighbours swapped, or up to two letters doubled or undoubled (``sabattique`` ->
        ``sabbatique``: doubling is the commonest French misspelling)."""
        variants = edits1(folded)
        for once in _redoubled(folded):
            variants.add(once)
            variants.update(_redoubled(once))
        variants.discard(folded)
        return sorted(word for word in variants if word in self._entries)

    def abbreviates(self, folded: str) -> bool:
        """Whether ``folded`` begins a French word ABBREVIATED_BY letters longer or more
        (``resto``, ``sécu``, ``préca``): a word cut short on purpose, not mistyped."""
        if self._sorted is None:
            self._sorted = sorted(self._entries)
        words = self._sorted
        i = bisect.bisect_left(words, folded)
        while i < len(words) and words[i].startswith(folded):
            if len(words[i]) - len(folded) >= ABBREVIATED_BY:
                return True
            i += 1
        return False

    def inflected(self, folded: str) -> bool:
        """Whether ``folded`` is a known word with an ending of INFLECTIONS added."""
        return any(
            folded.endswith(end) and len(folded) - len(end) >= 4 and folded[: -len(end)] in self._entries
            for end in INFLECTIONS
        )


# A doubled e is left out: ``ee`` is how a folded feminine ``-ée`` ends.
_DOUBLED = re.compile(r"([^e])\1+")


def _undouble(word: str) -> str:
    return _DOUBLED.sub(r"\1", word)


def _redoubled(word: str) -> set[str]:
    """``word`` with one letter doubled, or one doubled letter made single."""
    out = {word[:i] + word[i] + word[i:] for i in range(len(word))
           if word[i - 1 : i] != word[i] and word[i] != "e"}
    out |= {word[:i] + word[i + 1:] for i in range(1, len(word)) if word[i - 1] == word[i] != "e"}
    return out


def edits1(word: str) -> set[str]:
    """Every string one insertion, deletion, replacement or neighbour swap away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}


_LEXICON: Lexicon | None = None
_LEXICON_LOCK = threading.Lock()


def _frequency_list() -> dict[str, int]:
    """pyspellchecker's French word frequencies, read from its package data (without
    importing the package, whose English list would be loaded for nothing)."""
    import gzip
    import json

    spec = importlib.util.find_spec("spellchecker")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(list(spec.submodule_search_locations)[0]) / "resources" / "fr.json.gz"
    try:
        data = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError):
        return {}
    return {w: int(c) for w, c in data.items() if isinstance(w, str) and isinstance(c, int)}


def lexicon() -> Lexicon:
    """The French lexicon, loaded on first use (empty if pyspellchecker's data is missing:
    then no word is known to be French, and only the other rules protect words)."""
    global _LEXICON
    if _LEXICON is None:
        with _LEXICON_LOCK:
            if _LEXICON is None:
                _LEXICON = Lexicon(_frequency_list())
    return _LEXICON


# ---------------------------------------------------------------------------
# Which words are left alone


def _is_acronym(original: str) -> bool:
    letters = [ch for ch in original if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


def _has_inner_capital(original: str) -> bool:
    return any(ch.isupper() for ch in original[1:])


def protection(original: str, folded: str, question_words: Collection[str] = (),
               name_words: Collection[str] = ()) -> str | None:
    """Why a query word is not to be corrected (``None``: it may be mistyped).

    ``name_words`` are the words the query writes as names (see :func:`names`).
    """
    if not folded:
        return "empty"
    if folded in question_words:
        return "question word"
    if any(ch.isdigit() for ch in original):
        return "number or reference"
    if _is_acronym(original):
        return "acronym"
    if len(folded) > MAX_LENGTH:
        return "too long"
    words = lexicon()
    if folded in words or words.inflected(folded):
        return "French word"
    if words.abbreviates(folded):
        return "abbreviation"
    if original in name_words or _has_inner_capital(original):
        return "name"
    return None


def close_spellings_kept(original: str, folded: str, term: str, found: Sequence[str],
                         question_words: Collection[str] = ()) -> list[str]:
    """Of the index terms close to a query word the index lacks (``found``), those the
    ranking may search it as: all of them for a word that may be mistyped and has
    MIN_LENGTH_NEW_TERM letters or more; for a shorter one, those a swap or a doubled letter
    explains (``unsi`` -> ``unis``), or forms of its own family; for a French word or an
    abbreviation, only forms of its own family (``alcoolémie`` -> ``alcool``); for a
    question word, number or acronym, none. A capitalised name is treated as a word that
    may be mistyped: names are often misspelt."""
    reason = protection(original, folded, question_words)
    if reason is None and len(folded) >= MIN_LENGTH_NEW_TERM:
        return list(found)
    slips = set() if reason is not None or len(folded) < 4 else {stem(v) for v in _slips(folded)}
    family = reason in (None, "French word", "abbreviation")
    return [t for t in found if (family and same_family(term, t)) or t in slips]


def _slips(word: str) -> set[str]:
    """``word`` with two neighbours swapped, or up to two letters doubled or undoubled."""
    out = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
    for once in _redoubled(word):
        out.add(once)
        out.update(_redoubled(once))
    out.discard(word)
    return out


def same_family(term: str, other: str) -> bool:
    """Whether two index terms are forms of one word: the shorter, of FAMILY_PREFIX letters
    or more, begins the longer, or they begin alike for one letter more than that and the
    shorter has at most two letters past it (``alcoolemi``, ``alcool`` and ``alcoolis``;
    not ``formal`` and ``format``, nor ``boir`` and ``bois``)."""
    common = len(os.path.commonprefix([term, other]))
    shorter = min(len(term), len(other))
    if common == shorter:
        return common >= FAMILY_PREFIX
    return common > FAMILY_PREFIX and shorter - common <= 2


def names(text: str) -> frozenset[str]:
    """Words of a query written as names: capitalised (``Dupont``), unless first of several
    words (where a sentence starts with a capital); a lone capitalised word is a name."""
    words = [t.original for t in analyze(text, keep_stopwords=True)]
    later = words if len(words) == 1 else words[1:]
    return frozenset(w for w in later if w[:1].isupper() and not _is_acronym(w))


# ---------------------------------------------------------------------------
# Did you mean


@dataclass
class _Correction:
    start: int
    end: int
    text: str


_ACCENTED = {
    "a": "aàâäáãå", "c": "cç", "e": "eéèêë", "i": "iîïíì", "n": "nñ", "o": "oôöóòõ",
    "u": "uùûüú", "y": "yÿý",
}


#: What a text's letters are folded to before a word is looked for in it (see writes_form):
#: lower case, then each accented letter of _ACCENTED as its plain letter, œ and æ as two.
_FOLDED_LETTERS = str.maketrans(
    {accented: plain for plain, letters in _ACCENTED.items() for accented in letters if accented != plain}
    | {"œ": "oe", "æ": "ae"}
)
#: More letters a written form may have after the word (``blacklist`` finds *blacklisté*).
WRITTEN_EXTRA_LETTERS = 3


def written_forms(folded: str) -> tuple[str, ...]:
    """The folded word, and the word without an ending of INFLECTIONS (``conges`` -> ``conge``)."""
    return (folded,) + tuple(folded[: -len(end)] for end in INFLECTIONS
                             if folded.endswith(end) and len(folded) - len(end) >= 4)


def writes_form(text: str, forms: Sequence[str]) -> bool:
    """Whether ``text`` writes one of ``forms`` (from :func:`written_forms`) as a word: in any
    case, with or without accents, ``oe`` as ``œ``, followed by up to WRITTEN_EXTRA_LETTERS
    more letters. The text is folded once and searched as a string (a pattern compiled for
    each word cost more than the search)."""
    folded_text = text.lower().translate(_FOLDED_LETTERS)
    size = len(folded_text)
    for form in forms:
        at = folded_text.find(form)
        while at >= 0:
            end = at + len(form)
            if not at or not folded_text[at - 1].isalnum():
                after = end
                while after < size and after - end <= WRITTEN_EXTRA_LETTERS and folded_text[after].isalpha():
                    after += 1
                if after - end <= WRITTEN_EXTRA_LETTERS and (after == size or not folded_text[after].isalnum()):
                    return True
            at = folded_text.find(form, at + 1)
    return False


def _like(original: str, spelling: str) -> str:
    """``spelling`` in the case the user wrote ``original`` in."""
    if original[:1].isupper():
        return spelling[:1].upper() + spelling[1:]
    return spelling


def edit_kind(typed: str, other: str) -> str | None:
    """How two folded words differ by one edit: ``"double"`` (letters doubled or undoubled,
    any number of them), ``"swap"`` (two neighbours), ``"edit"`` (a letter added, dropped or
    replaced), or None (more than that, or nothing)."""
    if typed == other:
        return None
    if _undouble(typed) == _undouble(other):
        return "double"
    if len(typed) == len(other):
        diffs = [i for i, (a, b) in enumerate(zip(typed, other)) if a != b]
        if len(diffs) == 1:
            return "edit"
        if (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                and typed[diffs[0]] == other[diffs[1]] and typed[diffs[1]] == other[diffs[0]]):
            return "swap"
        return None
    short, long = sorted((typed, other), key=len)
    if len(long) - len(short) == 1:
        i = next((i for i, (a, b) in enumerate(zip(short, long)) if a != b), len(short))
        if short[i:] == long[i + 1:]:
            return "edit"
    return None


def _allowed(typed: str, other: str, kind: str, same_term: bool) -> bool:
    """The edit limits. Doubled letters, from 4 letters. A swap of two neighbours, from 4
    letters, sparing the first. A letter added, dropped or replaced, sparing the first, from
    MIN_LENGTH_NEW_TERM letters, and only when it changes the word's index term: when the
    term stays, the word is more often another form of a word the lexicon lacks (``connoté``,
    ``décéda``, ``baronnie``) than a typo, and the search is the same anyway."""
    if kind == "double":
        return len(typed) >= 4
    if typed[:1] != other[:1]:
        return False
    if kind == "swap":
        return len(typed) >= 4
    return not same_term and len(typed) >= MIN_LENGTH_NEW_TERM


class Vocabulary(Protocol):
    """What the index tells spelling (frsearch.search.Engine gives it)."""

    def doc_frequency(self, term: str) -> int:
        """The documents with an index term."""

    def writes(self, term: str, folded: str) -> bool:
        """Whether the documents with ``term`` write a form of the folded word ``folded``
        (see :func:`writes_form`)."""

    def written_near(self, term: str, folded: str) -> list[str]:
        """Words as the documents write them, whose terms are close to a word's (best first)."""


def correct_word(token: AnalyzedTerm, vocabulary: Vocabulary, name: bool = False) -> str | None:
    """The word a mistyped query word stands for, or None when unsure (see the module); a
    ``name`` only to a name the documents write."""
    typed = token.folded
    if len(typed) < 4 or not typed.isalpha() or not token.term:
        return None
    words = lexicon()
    # Every French word one edit away, most frequent first: the best must be a correction the
    # limits allow, whose term the index has, and clearly more frequent than any other word.
    neighbours = []
    for word in () if name else words.near(typed):
        kind = edit_kind(typed, word)
        if kind is not None:
            neighbours.append((-words.frequency(word), word, stem(word), kind))
    if neighbours:
        neighbours.sort()
        _count, best, term, kind = neighbours[0]
        if not _allowed(typed, best, kind, term == token.term) or not vocabulary.doc_frequency(term):
            return None
        for other in neighbours[1:]:
            if other[2] != term and -other[0] * AMBIGUOUS_RATIO > -neighbours[0][0]:
                return None  # two different words, neither clearly more likely
        return words.spelling(best)
    # No French word: a name the documents write (Zuckerberg for Zukerberg), if it searches
    # another term (a name's other form, Berlinois for berlinoise, is no correction).
    for form in vocabulary.written_near(token.term, typed)[:1]:
        folded = _key(form)
        kind = edit_kind(typed, folded)
        if (form[:1].isupper() and folded not in words and kind is not None
                and stem(folded) != token.term and _allowed(typed, folded, kind, False)):
            return form
    return None


_APOSTROPHE_SPACE = re.compile(r"['’]\s+")


def _split_word(text: str, token: AnalyzedTerm, after: AnalyzedTerm | None,
                vocabulary: Vocabulary) -> str | None:
    """The French word a stray space after an apostrophe split in two (``prud' hommes``),
    as the lexicon writes it, or None. An elision (``l' employeur``) is not a split word."""
    if after is None or token.folded in ELISIONS:
        return None
    gap = _APOSTROPHE_SPACE.match(text, token.end)
    if gap is None or gap.end() != after.start - len(after.elision or ""):
        return None
    joined = token.folded + after.folded
    words = lexicon()
    if joined not in words or not vocabulary.doc_frequency(stem(joined)):
        return None
    return words.spelling(joined)


def suggest(text: str, searched: Sequence[str], vocabulary: Vocabulary,
            question_words: Collection[str] = (), limit: int = 8) -> str | None:
    """``text`` (a query as typed) with its mistyped words corrected, or None.

    ``searched`` are the query's words as typed that are searched as plain words (not
    operators, field names, prefixes or fuzzy words); only those are looked at, the first
    ``limit`` of them that may be mistyped.
    """
    wanted = set(searched)
    name_words = names(text)
    corrections: list[_Correction] = []
    tokens = analyze(text, keep_stopwords=True)
    joined_with: AnalyzedTerm | None = None
    for i, token in enumerate(tokens):
        if token is joined_with:
            continue
        joined_with = tokens[i + 1] if i + 1 < len(tokens) else None
        whole = _split_word(text, token, joined_with, vocabulary)
        if whole is not None and joined_with is not None:
            corrections.append(_Correction(token.start, joined_with.end, _like(token.original, whole)))
            continue
        joined_with = None
        if token.term is None or token.original not in wanted:
            continue
        if text[token.end:token.end + 1] in ("*", "~", ":"):
            continue
        if vocabulary.doc_frequency(token.term) and vocabulary.writes(token.term, token.folded):
            continue  # the documents use a form of the word (asked first: it needs no lexicon)
        reason = protection(token.original, token.folded, question_words, name_words)
        if reason is not None and reason != "name":
            continue
        limit -= 1
        if limit < 0:
            break
        spelling = correct_word(token, vocabulary, name=reason == "name")
        if spelling is not None:
            corrections.append(_Correction(token.start, token.end, _like(token.original, spelling)))
    if not corrections:
        return None
    out, at = [], 0
    for fix in corrections:
        out.append(text[at:fix.start])
        out.append(fix.text)
        at = fix.end
    out.append(text[at:])
    return "".join(out)
