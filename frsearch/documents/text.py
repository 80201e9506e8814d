"""Plain text: decode any encoding, find the title a person would give it.

Files are read as bytes and decoded by what they are: a byte-order mark
(UTF-8, UTF-16, UTF-32) wins; then strict UTF-8; then Windows-1252, the
legacy French encoding, which is a superset of Latin-1 for text. Binary files
are recognised and refused with a reason, never indexed as mojibake.
"""

from __future__ import annotations

import codecs
import re

from frsearch.errors import DocumentError

__all__ = ["TITLE_MAX", "decode_bytes", "shorten", "title_from_text"]


# ---------------------------------------------------------------------------
# Decoding

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control bytes that never appear in text (tab, newlines, form feed and escape are allowed).
_BINARY_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def decode_bytes(data: bytes) -> str:
    """Decode file contents to text, or raise DocumentError for binary data."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DocumentError(f"invalid {encoding.upper()} text ({exc.reason})") from None
    sample = data[:8192]
    if b"\x00" in sample:
        utf16 = _guess_bomless_utf16(sample)
        if utf16 is None:
            raise DocumentError("binary file (contains NUL bytes)")
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            raise DocumentError("binary file (contains NUL bytes)") from None
        if _looks_like_text(text):
            return text
        raise DocumentError("binary file (contains NUL bytes)")
    if sample and sum(sample.count(bytes([b])) for b in _BINARY_BYTES) > len(sample) // 100 + 2:
        raise DocumentError("binary file (control characters)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Legacy French text: Windows-1252, with the five bytes it leaves undefined read as Latin-1.
    return data.decode("cp1252", errors="latin1fallback")


def _guess_bomless_utf16(sample: bytes) -> str | None:
    """Recognise UTF-16 text without a BOM by its NUL bytes on one side of each pair."""
    even, odd = sample[0::2], sample[1::2]
    if len(sample) < 4:
        return None
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _looks_like_text(text: str) -> bool:
    """Mostly letters, digits, spaces and punctuation, with spaces between words."""
    sample = text[:4096]
    if not sample:
        return False
    spaces = sum(ch.isspace() for ch in sample)
    printable = sum(ch.isalnum() or ch.isspace() or ch in ".,;:!?'’\"()-«»" for ch in sample)
    return spaces * 40 >= len(sample) and printable >= 0.8 * len(sample)


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start : error.end]
    return bad.decode("latin-1"), error.end


codecs.register_error("latin1fallback", _latin1_fallback)

# ---------------------------------------------------------------------------
# Titles of plain text

_BREADCRUMB_RE = re.compile(r"\s(?:>|›|»|/|\|)\s")
_SLUG_RE = re.compile(r"[\w.]+(?:[-_][\w.]+)+")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+$", re.IGNORECASE)
_DATE_PREFIX_RE = re.compile(
    r"^\s*(?:(?:date|publi[ée]e?\s+le|mis\s+à\s+jour\s+le|le)\s*:?\s*)?"
    r"(?:\d{4}-\d{2}(?:-\d{2})?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*[-–—:,]?\s*",
    re.IGNORECASE,
)
_SENTENCE_END_RE = re.compile(r"(?<=[^\s.]{2})[.!?…](?=\s|$)")
TITLE_MAX = 100


def _is_debris(line: str) -> bool:
    """Lines that sit above a headline on saved web pages but are not its title."""
    if len(_BREADCRUMB_RE.findall(line)) >= 1 and len(line.split()) >= 3 and (
        len(_BREADCRUMB_RE.split(line)) >= 3 or line.lower().startswith(("accueil", "home"))
    ):
        return True
    if " " not in line and _SLUG_RE.fullmatch(line):
        return True
    if _URL_RE.fullmatch(line):
        return True
    if not _DATE_PREFIX_RE.sub("", line).strip():
        return True
    return not any(ch.isalpha() for ch in line)


def _looks_like_headline(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= 25 and len(line) <= 160 and not line.endswith((".", ",", ";", ":"))


def shorten(text: str, limit: int = TITLE_MAX) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:-–— ")
    return cut + "…"


def title_from_text(text: str, fallback: str = "") -> str:
    """The title a person would give a plain text.

    The first line that reads as a headline, passing over web-page debris
    above it (breadcrumbs, file-name slugs, URLs, bare dates). One- and
    two-word lines (a rubric, a name) count only when no better headline comes
    before the first paragraph. With no headline, the first sentence of the
    first paragraph, shortened.
    """
    short_candidate = None
    for raw in text.splitlines()[:40]:
        line = " ".join(raw.split())
        if not line or _is_debris(line):
            continue
        if _looks_like_headline(line):
            if len(line.split()) >= 3:
                return shorten(line)
            short_candidate = short_candidate or line
            continue
        if short_candidate:
            return shorten(short_candidate)
        paragraph = _DATE_PREFIX_RE.sub("", line, count=1)
        match = _SENTENCE_END_RE.search(paragraph)
        sentence = paragraph[: match.start()] if match else paragraph
        return shorten(sentence)
    return shorten(short_candidate or fallback)


