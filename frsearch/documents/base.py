"""What every reader shares: the Document, the reason a file is skipped, text clean-up."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from frsearch.errors import DocumentError

__all__ = [
    "MAX_FILE_SIZE",
    "MAX_TEXT_CHARS",
    "Document",
    "Extracted",
    "SURROGATE_RE",
    "SkippedFile",
    "clean_text",
    "display_name",
]

#: Files larger than this are skipped ("too large"); change with ``max_size``.
MAX_FILE_SIZE = 32 * 1024 * 1024
#: A reader stops with "too much text" past this many characters: a small compressed file
#: (a PDF's streams, a zip's parts) must not expand into gigabytes of text.
MAX_TEXT_CHARS = 64 * 1024 * 1024


@dataclass
class Document:
    """One searchable document: an id, a title and a body, plus what the caller keeps.

    ``pages``: where each page starts in ``body`` (character offsets, the first
    is 0), for documents that have pages (PDF); None otherwise.
    """

    id: str
    title: str
    body: str
    path: str | None = None
    mtime: float | None = None
    size: int | None = None
    hash: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    pages: list[int] | None = None


@dataclass
class Extracted:
    """What a reader found in a file: body text, a title if the file names one, metadata."""

    body: str
    title: str | None = None
    #: Start offset of each page in ``body`` (PDF).
    pages: list[int] | None = None
    #: Metadata kept with the document and searchable by field: author, date (YYYY-MM-DD), ...
    fields: dict[str, str] = field(default_factory=dict)


class SkippedFile(DocumentError):
    """A file that was not indexed, and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


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
