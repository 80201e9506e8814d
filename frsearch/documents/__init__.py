"""Turning a file into a Document: one small reader per family, chosen by file type.

``base`` (Document, SkippedFile), ``text`` (encodings, titles), ``html``,
``markdown``, ``pdf``, ``office`` (.docx, OpenDocument), ``rtf``, ``epub``,
``mail`` (.eml), with ``archive`` (zip and XML within limits) and ``french``
(repairing text extracted from PDFs); ``files`` opens a path and picks the
reader. The readers of binary formats (and their libraries) are imported only
when a file of their kind is read.
"""

from frsearch.documents.base import (
    MAX_FILE_SIZE,
    SURROGATE_RE,
    Document,
    Extracted,
    SkippedFile,
    clean_text,
    display_name,
)
from frsearch.documents.files import SUPPORTED_SUFFIXES, document_from_text, read_document, too_large
from frsearch.documents.html import html_to_text
from frsearch.documents.text import decode_bytes, title_from_text

__all__ = [
    "MAX_FILE_SIZE",
    "SUPPORTED_SUFFIXES",
    "SURROGATE_RE",
    "Document",
    "Extracted",
    "SkippedFile",
    "clean_text",
    "decode_bytes",
    "display_name",
    "document_from_text",
    "html_to_text",
    "read_document",
    "title_from_text",
    "too_large",
]
