"""Real document files written for the tests and the speed harness: PDF, .docx, .odt, RTF, EPUB, e-mail.

PDFs are written byte by byte (a text layer in Helvetica with Windows-1252
letters, plus the glyphs ``fi``, ``fl`` and a narrow no-break space through an
encoding's /Differences, as typesetting programs write them), so a test
controls exactly what the text layer holds. Word files are written by
python-docx; OpenDocument and EPUB files by hand (zips of XML).
"""

from __future__ import annotations

import functools
import io
import zipfile
from email.message import EmailMessage
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

# Characters the PDF font encodes outside Windows-1252, as glyph names of /Differences.
_PDF_EXTRA = {"\ufb01": (0x81, "fi"), "\ufb02": (0x8D, "fl"), "\u202f": (0x8F, "uni202F"), "\u0153": (0x9C, "oe")}


def _pdf_string(text: str) -> bytes:
    out = bytearray()
    for ch in text:
        if ch in _PDF_EXTRA:
            out.append(_PDF_EXTRA[ch][0])
        else:
            out += ch.encode("cp1252", "replace")  # what Helvetica cannot draw becomes "?"
    data = bytes(out).replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + data + b")"


def _pdf_text_string(text: str) -> bytes:
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def pdf_bytes(
    pages: Sequence[Sequence[str]], *, title: str | None = None, author: str | None = None,
    created: str | None = None, scanned: bool = False,
) -> bytes:
    """A PDF whose pages hold the given lines of text (or, scanned, only a drawing)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    tree = add(b"")
    differences = b" ".join(b"%d /%s" % (code, name.encode()) for code, name in _PDF_EXTRA.values())
    font = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
        b"/BaseEncoding /WinAnsiEncoding /Differences [" + differences + b"] >> >>"
    )
    kids = []
    for lines in pages:
        if scanned:
            stream = b"0.5 g 72 72 400 600 re f"
        else:
            stream = b"BT /F1 11 Tf 14 TL 72 760 Td " + b" ".join(
                _pdf_string(line) + b" Tj T*" for line in lines
            ) + b" ET"
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >> "
            b"/Contents %d 0 R >>" % (tree, font, content)
        ))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    info_items = []
    if title:
        info_items.append(b"/Title " + _pdf_text_string(title))
    if author:
        info_items.append(b"/Author " + _pdf_text_string(author))
    if created:
        info_items.append(b"/CreationDate (" + created.encode() + b")")
    info = add(b"<< " + b" ".join(info_items) + b" >>")
    return assemble_pdf(objects, root=catalog, info=info)


def assemble_pdf(objects: Sequence[bytes], *, root: int, info: int | None = None) -> bytes:
    """A PDF file of numbered objects (1, 2, ...), with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, root)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def docx_bytes(
    paragraphs: Sequence[str], *, title: str | None = None, heading: str | None = None,
    author: str | None = None, table: Sequence[Sequence[str]] = (), header: str | None = None,
    footer: str | None = None, footnote: str | None = None,
) -> bytes:
    """A Word file written by python-docx (a footnotes part added by hand: python-docx has none)."""
    import datetime

    import docx

    document = docx.Document()
    if heading:
        document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    section = document.sections[0]
    if header:
        section.header.paragraphs[0].text = header
    if footer:
        section.footer.paragraphs[0].text = footer
    props = document.core_properties
    props.title = title or ""
    props.author = author or ""
    props.created = datetime.datetime(2024, 3, 15, 10, 0, 0)
    buffer = io.BytesIO()
    document.save(buffer)
    if footnote is None:
        return buffer.getvalue()
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    notes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{w}">'
        f'<w:footnote w:id="1"><w:p><w:r><w:t>{escape(footnote)}</w:t></w:r></w:p></w:footnote></w:footnotes>'
    )
    return _zip_with(buffer.getvalue(), {"word/footnotes.xml": notes.encode()})


def _zip_with(data: bytes, extra: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for name, content in extra.items():
            dst.writestr(name, content)
    return out.getvalue()


_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def odt_bytes(
    paragraphs: Sequence[str], *, heading: str | None = None, title: str | None = None,
    author: str | None = None, table: Sequence[Sequence[str]] = (), note: str | None = None,
    content_xml: bytes | None = None,
) -> bytes:
    """An OpenDocument text file (a zip of XML, written as LibreOffice writes one)."""
    body = ""
    if heading:
        body += f'<text:h text:outline-level="1">{escape(heading)}</text:h>'
    for i, text in enumerate(paragraphs):
        words = escape(text).replace("  ", ' <text:s text:c="1"/>')
        extra = ""
        if note and i == 0:
            extra = (f'<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation>'
                     f'<text:note-body><text:p>{escape(note)}</text:p></text:note-body></text:note>')
        body += f"<text:p>{words}{extra}</text:p>"
    if table:
        body += "<table:table>" + "".join(
            "<table:table-row>" + "".join(
                f"<table:table-cell><text:p>{escape(v)}</text:p></table:table-cell>" for v in row
            ) + "</table:table-row>" for row in table
        ) + "</table:table>"
    content = content_xml or (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NS}>'
        f"<office:body><office:text>{body}</office:text></office:body></office:document-content>"
    ).encode()
    meta = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {_ODF_NS}><office:meta>'
        + (f"<dc:title>{escape(title)}</dc:title>" if title else "")
        + (f"<meta:initial-creator>{escape(author)}</meta:initial-creator>" if author else "")
        + "<meta:creation-date>2023-11-02T09:30:00</meta:creation-date></office:meta></office:document-meta>"
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content)
        z.writestr("meta.xml", meta)
    return out.getvalue()


def epub_bytes(chapters: Sequence[tuple[str, str]], *, title: str, author: str, spine: Sequence[int] | None = None) -> bytes:
    """An EPUB whose chapters (heading, text) are read in ``spine`` order (default: as given)."""
    order = list(spine) if spine is not None else list(range(len(chapters)))
    manifest = "".join(
        f'<item id="c{i}" href="text/ch{i}.xhtml" media-type="application/xhtml+xml"/>' for i in range(len(chapters))
    )
    spine_xml = "".join(f'<itemref idref="c{i}"/>' for i in order)
    opf = (
        '<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{escape(title)}</dc:title><dc:creator>{escape(author)}</dc:creator><dc:date>2021-06-01</dc:date>"
        f"</metadata><manifest>{manifest}</manifest><spine>{spine_xml}</spine></package>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), b"application/epub+zip")
        z.writestr("META-INF/container.xml", (
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>"))
        z.writestr("OEBPS/content.opf", opf)
        for i, (heading, text) in enumerate(chapters):
            z.writestr(f"OEBPS/text/ch{i}.xhtml", (
                '<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head>'
                f"<title>{escape(heading)}</title></head><body><h1>{escape(heading)}</h1><p>{escape(text)}</p>"
                "</body></html>").encode())
    return out.getvalue()


def eml_bytes(subject: str, text: str, *, sender: str, date: str, html: str | None = None,
              charset: str = "utf-8", cte: str = "quoted-printable") -> bytes:
    """An e-mail message: a text part in ``charset`` and ``cte`` encoding, and maybe an HTML part."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = "destinataire@example.fr"
    message["Date"] = date
    message.set_content(text, charset=charset, cte=cte)
    if html is not None:
        message.add_alternative(html, subtype="html", charset=charset, cte=cte)
    return message.as_bytes()


@functools.lru_cache(maxsize=8)
def zip_bomb(name: str, size: int = 256 * 1024**2) -> bytes:
    """A zip (named as a document would be) with one part of ``size`` zero bytes (256 MB: 250 KB zipped)."""
    out = io.BytesIO()
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open(info, "w", force_zip64=True) as part:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                part.write(chunk)
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
