"""Word (.docx) and OpenDocument (.odt, .ods, .odp) files: their zip's XML, read with the standard library.

Both formats are zips of XML parts, opened through frsearch.documents.archive
(zip bombs and entity declarations refused). Word: the main document's
paragraphs and tables, then headers, footers, footnotes and endnotes; the
title from the core properties, else the first paragraph styled as a title or
first-level heading. OpenDocument: the text of content.xml (paragraphs,
headings, table cells, notes, text boxes); metadata from meta.xml.
"""

from __future__ import annotations

import re
from typing import Any

from frsearch.documents.archive import ZipDocument
from frsearch.documents.base import MAX_TEXT_CHARS, Extracted
from frsearch.errors import DocumentError

__all__ = ["read_docx", "read_odf"]

_W3CDTF_RE = re.compile(r"^\s*(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
_TITLE_STYLES = {"title", "titre", "heading1", "titre1", "heading 1", "titre 1"}


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _date(value: str | None) -> str | None:
    match = _W3CDTF_RE.match(value or "")
    return "-".join(p for p in match.groups() if p) if match else None


def _meta(root: Any, names: tuple[str, ...]) -> str | None:
    """The text of the first element whose local name is one of ``names``, in that order."""
    found: dict[str, str] = {}
    for elem in root.iter():
        name = _local(elem.tag)
        if name in names and name not in found:
            text = " ".join("".join(elem.itertext()).split())
            if text:
                found[name] = text
    return next((found[n] for n in names if n in found), None)


class _Text:
    """Text written out with a limit, so that a document cannot grow without bound."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)
        if self.length > MAX_TEXT_CHARS:
            raise DocumentError(f"refused document: over {MAX_TEXT_CHARS:,} characters of text")

    def value(self) -> str:
        lines = [" ".join(line.split()) for line in "".join(self.parts).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# ---------------------------------------------------------------------------
# Word


def _word_text(elem: Any, out: _Text) -> None:
    name = _local(elem.tag)
    if name == "t":
        out.add(elem.text or "")
        return
    if name in ("delText", "instrText", "fldSimple_instr", "rPr", "pPr", "sectPr"):
        return
    if name == "tab":
        out.add("\t")
    elif name in ("br", "cr"):
        out.add("\n")
    elif name == "noBreakHyphen":
        out.add("-")
    for child in elem:
        _word_text(child, out)
    if name == "p":
        out.add("\n")
    elif name == "tc":
        out.add("\t")
    elif name == "tr":
        out.add("\n")


def _word_title(root: Any) -> str | None:
    for para in root.iter():
        if _local(para.tag) != "p":
            continue
        style = next((e for e in para.iter() if _local(e.tag) == "pStyle"), None)
        if style is None:
            continue
        value = next((v for k, v in style.attrib.items() if _local(k) == "val"), "")
        if value.lower() in _TITLE_STYLES:
            out = _Text()
            _word_text(para, out)
            if out.value():
                return out.value()
    return None


def _main_part(doc: ZipDocument) -> str:
    if doc.has("_rels/.rels"):
        for rel in doc.xml("_rels/.rels").iter():
            if rel.get("Type", "").endswith("/officeDocument") and rel.get("Target"):
                target = rel.get("Target", "").lstrip("/")
                if doc.has(target):
                    return target
    return "word/document.xml"


def read_docx(data: bytes) -> Extracted:
    """Paragraphs, tables, headers, footers and notes of a Word file, its title, author and date."""
    doc = ZipDocument(data, "Word file")
    main = _main_part(doc)
    folder = main.rsplit("/", 1)[0] + "/" if "/" in main else ""
    root = doc.xml(main)
    out = _Text()
    _word_text(root, out)
    extra = sorted(
        name for name in doc.names()
        if name.startswith(folder) and re.fullmatch(r"(header|footer)\d*\.xml|footnotes\.xml|endnotes\.xml",
                                                     name[len(folder):])
    )
    for name in extra:
        out.add("\n")
        _word_text(doc.xml(name), out)
    found = Extracted(body=out.value())
    if doc.has("docProps/core.xml"):
        _take_meta(found, doc.xml("docProps/core.xml"), ("creator", "lastModifiedBy"), ("created", "modified"))
    found.title = found.title or _word_title(root)
    return found


def _take_meta(found: Extracted, meta: Any, author: tuple[str, ...], date: tuple[str, ...]) -> None:
    """The title, author and date (the first of the ``author`` and ``date`` elements found) of a
    document's metadata part, into ``found``."""
    found.title = _meta(meta, ("title",))
    who = _meta(meta, author)
    when = _date(_meta(meta, date))
    if who:
        found.fields["author"] = who
    if when:
        found.fields["date"] = when


# ---------------------------------------------------------------------------
# OpenDocument


def _odf_text(elem: Any, out: _Text) -> None:
    name = _local(elem.tag)
    if name in ("note-citation", "tracked-changes", "sequence-decls", "forms"):
        pass
    elif name == "s":
        count = elem.get("{urn:oasis:names:tc:opendocument:xmlns:text:1.0}c", "1")
        out.add(" " * min(int(count) if count.isdigit() else 1, 100))
    elif name == "tab":
        out.add("\t")
    elif name == "line-break":
        out.add("\n")
    else:
        if name == "note-body":
            out.add(" ")  # a footnote's text is not glued to the word it follows
        out.add(elem.text or "")
        for child in elem:
            _odf_text(child, out)
        if name in ("p", "h"):
            out.add("\n")
        elif name == "table-cell":
            out.add("\t")
        elif name == "table-row":
            out.add("\n")
    if elem.tail:
        out.add(elem.tail)


def _odf_title(root: Any) -> str | None:
    for elem in root.iter():
        if _local(elem.tag) == "h":
            level = next((v for k, v in elem.attrib.items() if _local(k) == "outline-level"), "1")
            if level == "1":
                text = " ".join("".join(elem.itertext()).split())
                if text:
                    return text
    return None


def read_odf(data: bytes) -> Extracted:
    """The text of an OpenDocument file (text, spreadsheet, presentation), its title, author, date."""
    doc = ZipDocument(data, "OpenDocument file")
    root = doc.xml("content.xml")
    body = next((e for e in root if _local(e.tag) == "body"), root)
    out = _Text()
    _odf_text(body, out)
    found = Extracted(body=out.value())
    if doc.has("meta.xml"):
        _take_meta(found, doc.xml("meta.xml"), ("creator", "initial-creator"), ("creation-date", "date"))
    found.title = found.title or _odf_title(body)
    return found
