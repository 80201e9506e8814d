"""EPUB: its chapters in reading (spine) order, read as HTML; title, author and date from the package."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

from frsearch.documents.archive import ZipDocument
from frsearch.documents.base import Extracted
from frsearch.documents.html import html_to_text
from frsearch.documents.text import decode_bytes
from frsearch.errors import DocumentError

__all__ = ["read_epub"]

_DATE_RE = re.compile(r"^\s*(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def read_epub(data: bytes) -> Extracted:
    """The text of each chapter of an EPUB in spine order, its title, author and date."""
    book = ZipDocument(data, "EPUB")
    container = book.xml("META-INF/container.xml")
    package = next(
        (e.get("full-path") for e in container.iter() if _local(e.tag) == "rootfile" and e.get("full-path")),
        None,
    )
    if not package:
        raise DocumentError("damaged EPUB (no package in META-INF/container.xml)")
    opf = book.xml(package)
    base = posixpath.dirname(package)
    manifest = {
        item.get("id"): item.get("href")
        for item in opf.iter()
        if _local(item.tag) == "item" and item.get("id") and item.get("href")
    }
    chapters: list[str] = []
    for ref in opf.iter():
        if _local(ref.tag) != "itemref":
            continue
        href = manifest.get(ref.get("idref"))
        if not href:
            continue
        name = posixpath.normpath(posixpath.join(base, unquote(href.split("#", 1)[0])))
        if not book.has(name):
            continue  # a spine item the book lacks: read the others
        try:
            _title, text = html_to_text(decode_bytes(book.read(name)))
        except DocumentError:
            continue  # a chapter that is not text (an image page)
        if text:
            chapters.append(text)
    found = Extracted(body="\n\n".join(chapters))
    meta = {}
    for elem in opf.iter():
        name = _local(elem.tag)
        text = " ".join("".join(elem.itertext()).split())
        if name in ("title", "creator", "date") and text and name not in meta:
            meta[name] = text
    found.title = meta.get("title")
    if meta.get("creator"):
        found.fields["author"] = meta["creator"]
    match = _DATE_RE.match(meta.get("date", ""))
    if match:
        found.fields["date"] = "-".join(p for p in match.groups() if p)
    return found
