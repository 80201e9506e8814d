"""From a path to a Document: open the file safely, pick the reader of its type, build the Document.

Readers are chosen by file name extension and imported only when a file of
their kind is met, so a query never pays for them.
"""

from __future__ import annotations

import errno
import hashlib
import importlib
import os
import stat as statmod

from frsearch.documents.base import (
    MAX_FILE_SIZE,
    Document,
    Extracted,
    SkippedFile,
    clean_text,
    display_name,
)
from frsearch.documents.text import decode_bytes, shorten, title_from_text
from frsearch.errors import DocumentError

__all__ = ["READERS", "SUPPORTED_SUFFIXES", "document_from_text", "read_document", "too_large"]

#: Extension -> kind of document.
SUPPORTED_SUFFIXES = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".odt": "odf",
    ".ods": "odf",
    ".odp": "odf",
    ".rtf": "rtf",
    ".epub": "epub",
    ".eml": "email",
}

#: Kind -> "module:function" reading the file's bytes into an Extracted (imported when needed).
READERS = {
    "pdf": "frsearch.documents.pdf:read_pdf",
    "docx": "frsearch.documents.office:read_docx",
    "odf": "frsearch.documents.office:read_odf",
    "rtf": "frsearch.documents.rtf:read_rtf",
    "epub": "frsearch.documents.epub:read_epub",
    "email": "frsearch.documents.mail:read_email",
}


def document_from_text(
    text: str, *, doc_id: str, kind: str = "text", fallback_title: str = ""
) -> Document:
    """Build a Document from decoded text of the given kind (text, markdown, html)."""
    text = clean_text(text)
    if kind == "html":
        from frsearch.documents.html import html_to_text

        title, body = html_to_text(text)
    elif kind == "markdown":
        from frsearch.documents.markdown import markdown_to_text

        title, body = markdown_to_text(text)
    else:
        title, body = None, text
    body = body.strip("\n")
    title = title or title_from_text(body, fallback_title)
    return Document(id=doc_id, title=shorten(title, 200), body=body)


def _document_from_extracted(found: Extracted, doc_id: str, fallback_title: str) -> Document:
    body = clean_text(found.body)
    pages = found.pages
    if pages is not None and len(body) != len(found.body):  # keep page offsets exact
        pages = None
    title = " ".join(clean_text(found.title or "").split()) or title_from_text(body, fallback_title)
    fields = {k: " ".join(clean_text(v).split()) for k, v in found.fields.items() if v and v.strip()}
    return Document(id=doc_id, title=shorten(title, 200), body=body, fields=fields, pages=pages)


def too_large(size: int, max_size: int) -> str:
    """Why a file over the size limit is skipped."""
    return f"too large ({size:,} bytes; the limit is {max_size:,})"


def _read_bytes(path: str, max_size: int) -> tuple[bytes, os.stat_result]:
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
                raise SkippedFile(path, too_large(stat.st_size, max_size))
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
    return data, stat


def read_document(path: str, *, max_size: int = MAX_FILE_SIZE) -> Document:
    """Read one file into a Document, or raise SkippedFile with the reason."""
    kind = SUPPORTED_SUFFIXES.get(os.path.splitext(path)[1].lower())
    if kind is None:
        raise SkippedFile(path, "unsupported file type")
    data, stat = _read_bytes(path, max_size)
    if not data.strip():
        raise SkippedFile(path, "empty file")
    stem = display_name(os.path.splitext(os.path.basename(path))[0])
    try:
        if kind in READERS:
            module, _, function = READERS[kind].partition(":")
            reader = getattr(importlib.import_module(module), function)
            doc = _document_from_extracted(reader(data), path, stem)
        else:
            doc = document_from_text(decode_bytes(data), doc_id=path, kind=kind, fallback_title=stem)
    except DocumentError as exc:
        raise SkippedFile(path, exc.message) from None
    except RecursionError:
        raise SkippedFile(path, f"refused {kind}: nested too deeply") from None
    except MemoryError:
        raise SkippedFile(path, f"refused {kind}: too large to read in memory") from None
    except Exception as exc:  # a reader's own bug must not stop a whole run: say it, go on
        raise SkippedFile(path, f"cannot be read (internal error {type(exc).__name__}: {exc})"[:300]) from None
    if not doc.body.strip():
        raise SkippedFile(path, "no text")
    doc.path = path
    doc.mtime = stat.st_mtime
    doc.size = stat.st_size
    doc.hash = hashlib.blake2b(data, digest_size=16).hexdigest()
    return doc
