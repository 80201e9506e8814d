"""Turning a file into a Document: decode any encoding, strip markup, find a title.

Files are read as bytes and decoded by what they are: a byte-order mark
(UTF-8, UTF-16, UTF-32) wins; then strict UTF-8; then Windows-1252, the
legacy French encoding, which is a superset of Latin-1 for text. Binary files
are recognised and refused with a reason, never indexed as mojibake.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import stat as statmod
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from frsearch.errors import DocumentError

__all__ = [
    "MAX_FILE_SIZE",
    "SUPPORTED_SUFFIXES",
    "Document",
    "SkippedFile",
    "decode_bytes",
    "document_from_text",
    "read_document",
    "title_from_text",
]

#: Files larger than this are skipped ("too large"); change with ``max_size``.
MAX_FILE_SIZE = 32 * 1024 * 1024

SUPPORTED_SUFFIXES = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
}


@dataclass
class Document:
    """One searchable document: an id, a title and a body, plus what the caller keeps."""

    id: str
    title: str
    body: str
    path: str | None = None
    mtime: float | None = None
    size: int | None = None
    hash: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


class SkippedFile(DocumentError):
    """A file that was not indexed, and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


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

# C0/C1 control characters other than tab and newlines, removed from indexed text.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# Lone surrogates are not text (they cannot be written as UTF-8): replaced by U+FFFD.
SURROGATE_RE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Normalise newlines and drop control characters that documents sometimes carry."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return SURROGATE_RE.sub("\ufffd", _CONTROL_RE.sub("", text))


def display_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (lone surrogates) written as \\xNN."""
    if not SURROGATE_RE.search(name):
        return name
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # surrogates that do not stand for bytes
        return SURROGATE_RE.sub("\ufffd", name)


# ---------------------------------------------------------------------------
# Markup


class _HTMLText(HTMLParser):
    """Collect the visible text of an HTML page, its <title> and first <h1>."""

    _SKIP = {"script", "style", "noscript", "template", "svg", "head"}
    _BLOCK = {
        "p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "section",
        "article", "header", "footer", "nav", "aside", "main", "blockquote", "pre",
        "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "figcaption", "hr", "title",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.title: str | None = None
        self.h1: str | None = None
        self._capture: str | None = None
        self._captured: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("title", "h1") and self._capture is None:
            self._capture = tag
            self._captured = []
        if tag == "title":
            return
        if tag in self._SKIP:
            self.skip_depth += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._capture:
            text = " ".join("".join(self._captured).split())
            if tag == "title" and self.title is None:
                self.title = text or None
            elif tag == "h1" and self.h1 is None:
                self.h1 = text or None
            self._capture = None
        if tag == "title":
            return
        if tag in self._SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._captured.append(data)
        if self.skip_depth == 0 and self._capture != "title":
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str | None, str]:
    """Return (title, visible text) of an HTML page; scripts and styles are dropped."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return parser.title or parser.h1, body


_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n(?:---|\.\.\.)\s*\n", re.DOTALL)
_ATX_RE = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


def markdown_title(text: str) -> tuple[str | None, str]:
    """Return (title, text) of a Markdown document: front matter title, or its first heading."""
    title = None
    match = _FRONT_MATTER_RE.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "title" and value.strip():
                title = value.strip().strip("\"'")
        text = text[match.end():]
    if title is None:
        lines = text.splitlines()
        for i, line in enumerate(lines):
            atx = _ATX_RE.match(line)
            if atx:
                title = atx.group(1)
                break
            if line.strip() and i + 1 < len(lines) and re.fullmatch(r"\s*(=+|-+)\s*", lines[i + 1]):
                title = line.strip()
                break
    return title, text


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


def _shorten(text: str, limit: int = TITLE_MAX) -> str:
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
                return _shorten(line)
            short_candidate = short_candidate or line
            continue
        if short_candidate:
            return _shorten(short_candidate)
        paragraph = _DATE_PREFIX_RE.sub("", line, count=1)
        match = _SENTENCE_END_RE.search(paragraph)
        sentence = paragraph[: match.start()] if match else paragraph
        return _shorten(sentence)
    return _shorten(short_candidate or fallback)


# ---------------------------------------------------------------------------
# Files


def document_from_text(
    text: str, *, doc_id: str, kind: str = "text", fallback_title: str = ""
) -> Document:
    """Build a Document from decoded text of the given kind (text, markdown, html)."""
    text = clean_text(text)
    if kind == "html":
        title, body = html_to_text(text)
        title = title or title_from_text(body, fallback_title)
    elif kind == "markdown":
        title, body = markdown_title(text)
        title = title or title_from_text(body, fallback_title)
    else:
        body = text
        title = title_from_text(body, fallback_title)
    body = body.strip("\n")
    return Document(id=doc_id, title=_shorten(title, 200), body=body)


def too_large(size: int, max_size: int) -> str:
    """Why a file over the size limit is skipped."""
    return f"too large ({size:,} bytes; the limit is {max_size:,})"


def read_document(path: str, *, max_size: int = MAX_FILE_SIZE) -> Document:
    """Read one file into a Document, or raise SkippedFile with the reason."""
    kind = SUPPORTED_SUFFIXES.get(os.path.splitext(path)[1].lower())
    if kind is None:
        raise SkippedFile(path, "unsupported file type")
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer; it is refused below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with open(fd, "rb") as handle:
            stat = os.fstat(handle.fileno())
            if not statmod.S_ISREG(stat.st_mode):
                raise SkippedFile(
                    path, "is a directory" if statmod.S_ISDIR(stat.st_mode) else "not a regular file"
                )
            if stat.st_size > max_size:
                raise SkippedFile(
                    path, too_large(stat.st_size, max_size)
                )
            data = handle.read(max_size + 1)
    except SkippedFile:
        raise
    except FileNotFoundError:
        raise SkippedFile(path, "no longer exists") from None
    except PermissionError:
        raise SkippedFile(path, "permission denied") from None
    except IsADirectoryError:
        raise SkippedFile(path, "is a directory") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SkippedFile(path, "symbolic link loop") from None
        raise SkippedFile(path, f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > max_size:
        raise SkippedFile(path, f"too large (over {max_size:,} bytes)")
    if not data.strip():
        raise SkippedFile(path, "empty file")
    try:
        text = decode_bytes(data)
    except DocumentError as exc:
        raise SkippedFile(path, exc.message) from None
    stem = display_name(os.path.splitext(os.path.basename(path))[0])
    doc = document_from_text(text, doc_id=path, kind=kind, fallback_title=stem)
    if not doc.body.strip():
        raise SkippedFile(path, "no text")
    doc.path = path
    doc.mtime = stat.st_mtime
    doc.size = stat.st_size
    doc.hash = hashlib.blake2b(data, digest_size=16).hexdigest()
    return doc
