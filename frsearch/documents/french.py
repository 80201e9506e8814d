"""Repairing French text extracted from a PDF's text layer.

A PDF places glyphs, not words: typographic ligatures come out as one
character (``ﬁ``), words cut at a line end keep their hyphen and the line
break (``gouver-`` / ``nement``), and apostrophes and spaces come in several
Unicode forms. These functions give back the text as a reader reads it.
"""

from __future__ import annotations

import re

__all__ = ["repair_pdf_text"]

# Typographic ligatures (Unicode's compatibility block) -> their letters. œ and æ are
# letters of French, not ligatures of typography: they stay.
_LIGATURES = str.maketrans({
    "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
    "\ufb05": "st", "\ufb06": "st",
})
# Apostrophes drawn with other glyphs (modifier letter, prime, acute accent) between letters.
_APOSTROPHE_RE = re.compile(r"(?<=\w)[\u02bc\u2032\u00b4\u0060](?=\w)")
# Spaces of other widths that fonts use inside « » and before : ; ! ? are kept as the
# no-break spaces they are; figure, thin and hair spaces become the narrow no-break space.
_THIN_SPACES_RE = re.compile("[\u2007\u2009\u200a]")
# Zero-width characters some generators put between glyphs.
_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
# A word cut at a line end: letters, a hyphen (or soft hyphen), a line break, letters.
_CUT_RE = re.compile(r"\b(\w+)[-\u00ad\u2010] *\n[ \t]*(\w+)")  # \b: linear on a very long word
# Soft hyphens left inside a line are invisible.
_SOFT_HYPHEN_RE = re.compile("\u00ad(?!\n)")
# Second halves of words that keep their hyphen even at a line end (peut-être, dit-il,
# celle-ci, vis-à-vis, rendez-vous, c'est-à-dire...).
_HYPHENATED_ENDS = frozenset(
    "être il ils elle elles on je tu nous vous le la les lui leur leurs moi toi y en ce ci là "
    "même mêmes t à vis dire vous uns unes autres clés jours".split()
)


def _join_cut(match: re.Match[str]) -> str:
    first, second = match.group(1), match.group(2)
    if second[0].isupper() or second[0].isdigit() or first[-1].isdigit() or (
        second.lower() in _HYPHENATED_ENDS
    ):
        return f"{first}-{second}"  # États-Unis, Jean-Marc, peut-être, 2020-2021: a real hyphen
    return first + second  # gouver- nement: one word cut by the line


def repair_pdf_text(text: str) -> str:
    """Ligatures expanded, words cut at line ends joined, apostrophes and spaces normalised."""
    text = text.translate(_LIGATURES)
    text = _ZERO_WIDTH_RE.sub("", text)
    text = _APOSTROPHE_RE.sub("\u2019", text)
    text = _THIN_SPACES_RE.sub("\u202f", text)
    text = _CUT_RE.sub(_join_cut, text)
    return _SOFT_HYPHEN_RE.sub("", text)
