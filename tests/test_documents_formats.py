"""Documents people keep: PDF, Word, OpenDocument, RTF, EPUB, e-mail, Markdown, on real generated files.

Each file is written for the test (tests/docfiles.py) and read through
read_document, then indexed and searched where the behaviour is a search's
(pages, metadata fields). Hostile files are refused with a one-line reason
within bounded time and memory, and the rest of a run goes on.
"""

from __future__ import annotations

import functools
import io
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest

from frsearch import Index
from frsearch.documents import SkippedFile, read_document
from frsearch.documents.french import repair_pdf_text
from tests.docfiles import (
    assemble_pdf,
    docx_bytes,
    eml_bytes,
    epub_bytes,
    odt_bytes,
    pdf_bytes,
    write,
    zip_bomb,
)

PAGES = [
    ["Rapport sur l’efﬁcacité", "Introduction générale du rapport."],
    [
        "Le gouver-",
        "nement des États-",
        "Unis a déﬁni une ﬂotte : « bonjour\u202f» !",
        "Peut-",
        "être l’œuvre est-elle ﬁnie\u202f?",
    ],
    ["Les baleines bleues de l’océan Atlantique."],
]


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    return write(tmp_path / "rapport.pdf", pdf_bytes(
        PAGES, title="Rapport annuel 2024", author="Jean Dupont", created="D:20240315120000+01'00'"))


def read(path: Path) -> object:
    return read_document(str(path))


# ---------------------------------------------------------------------------
# PDF


def test_pdf_pages_in_order_with_title_author_date(pdf: Path) -> None:
    doc = read_document(str(pdf))
    assert doc.title == "Rapport annuel 2024"
    assert doc.fields == {"author": "Jean Dupont", "date": "2024-03-15"}
    assert doc.pages is not None and len(doc.pages) == 3 and doc.pages[0] == 0
    assert doc.body[doc.pages[2]:].startswith("Les baleines bleues")
    assert doc.body.index("Introduction") < doc.body.index("gouvernement") < doc.body.index("baleines")


def test_pdf_french_repairs(pdf: Path) -> None:
    body = read_document(str(pdf)).body
    assert "efficacité" in body and "défini une flotte" in body and "finie" in body  # ligatures
    assert "\ufb01" not in body and "\ufb02" not in body
    assert "Le gouvernement des États-Unis" in body  # cut word joined, real hyphen kept
    assert "Peut-être l’œuvre" in body
    assert "« bonjour\u202f» !" in body  # narrow no-break space kept as written


def test_pdf_repairs_are_not_done_by_the_pdf_library_alone(pdf: Path) -> None:
    """What pypdf gives without frsearch's repair (so that the test above tests frsearch)."""
    from pypdf import PdfReader

    raw = "\n".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    assert "gouver-\nnement" in raw and "\ufb01" in raw
    assert "gouvernement" in repair_pdf_text(raw)


@pytest.mark.parametrize("raw, repaired", [
    ("gouver-\nnement", "gouvernement"),
    ("États-\nUnis", "États-Unis"),
    ("dit-\nil", "dit-il"),
    ("2020-\n2021", "2020-2021"),
    ("l\u02bcÉtat", "l’État"),
    ("\ufb00\ufb03\ufb04", "ffffiffl"),
    ("très\u00ad\nbien", "trèsbien"),
])
def test_repair_pdf_text(raw: str, repaired: str) -> None:
    assert repair_pdf_text(raw) == repaired


def test_pdf_hit_names_its_page_and_takes_the_snippet_from_it(pdf: Path, tmp_path: Path) -> None:
    with Index(tmp_path / "ix") as index:
        index.index_paths([str(pdf)])
        hit = index.search("baleines")[0]
        assert hit.page == 3
        assert hit.snippet is not None and "**" not in hit.snippet.text
        assert hit.snippet.text.startswith("Les baleines") and "gouvernement" not in hit.snippet.text
        assert hit.as_dict()["page"] == 3
        assert index.search("gouvernement")[0].page == 2  # found as one word
        assert index.search('"États-Unis"')[0].page == 2
        assert index.search("efficacite")[0].page == 1


def test_metadata_is_searchable_as_fields(pdf: Path, tmp_path: Path) -> None:
    write(tmp_path / "autre.pdf", pdf_bytes([["Dupont est cité ici."]], author="Marie Curie"))
    with Index(tmp_path / "ix") as index:
        index.index_paths([str(pdf), str(tmp_path / "autre.pdf")])
        for query in ("auteur:dupont", "author:Dupont", 'auteur:"jean dupont"'):
            assert [Path(h.path).name for h in index.search(query)] == ["rapport.pdf"], query
        assert [Path(h.path).name for h in index.search("author:curie")] == ["autre.pdf"]
        assert [Path(h.path).name for h in index.search("date:2024")] == ["rapport.pdf"]
        hit = index.search("auteur:dupont")[0]
        assert hit.as_dict()["fields"] == {"author": "Jean Dupont", "date": "2024-03-15"}
        # Free words search the title and text, not the metadata.
        assert {Path(h.path).name for h in index.search("dupont")} == {"autre.pdf"}
        assert index.search("cité")[0].page == 1  # a PDF of one page


def test_pdf_title_without_metadata_is_its_first_heading_line(tmp_path: Path) -> None:
    path = write(tmp_path / "sans-titre.pdf", pdf_bytes(
        [["Compte rendu du conseil municipal", "", "La séance est ouverte à 18 h."]], title="Microsoft Word - cr.docx"))
    doc = read_document(str(path))
    assert doc.title == "Compte rendu du conseil municipal"


def test_scanned_pdf_is_reported_not_indexed_empty(tmp_path: Path) -> None:
    scan = write(tmp_path / "scan.pdf", pdf_bytes([[], []], scanned=True))
    with pytest.raises(SkippedFile, match="no text layer: scanned"):
        read_document(str(scan))


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    def encrypted(user_password: str) -> bytes:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes([["Secret défense"]]))))
        writer.encrypt(user_password=user_password, owner_password="proprio", algorithm="RC4-128")
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    locked = write(tmp_path / "locked.pdf", encrypted("motdepasse"))
    with pytest.raises(SkippedFile, match=r"^.*: encrypted PDF \(needs a password\)$"):
        read_document(str(locked))
    # Encrypted only against editing (empty password to open): read.
    assert read_document(str(write(tmp_path / "open.pdf", encrypted("")))).body == "Secret défense"


# ---------------------------------------------------------------------------
# Word, OpenDocument, RTF, EPUB, e-mail


def test_docx_paragraphs_tables_headers_footers_footnotes_metadata(tmp_path: Path) -> None:
    path = write(tmp_path / "lettre.docx", docx_bytes(
        ["Madame, la baleine est arrivée à Besançon.", "L’œuvre est achevée."],
        title="Lettre de l’été", author="Marie Curie", table=[["Nom", "Ville"], ["Pierre", "Orléans"]],
        header="En-tête confidentiel", footer="Pied de page numéroté", footnote="Une note de bas de page"))
    doc = read_document(str(path))
    assert doc.title == "Lettre de l’été"
    assert doc.fields == {"author": "Marie Curie", "date": "2024-03-15"}
    for text in ("Madame, la baleine est arrivée à Besançon.", "L’œuvre", "Orléans", "En-tête confidentiel",
                 "Pied de page numéroté", "Une note de bas de page"):
        assert text in doc.body
    assert doc.body.index("Madame") < doc.body.index("Orléans")


def test_docx_title_from_first_heading_without_core_title(tmp_path: Path) -> None:
    path = write(tmp_path / "note.docx", docx_bytes(["Du texte."], heading="Compte rendu de réunion"))
    assert read_document(str(path)).title == "Compte rendu de réunion"


def test_odt_text_headings_tables_notes_metadata(tmp_path: Path) -> None:
    path = write(tmp_path / "cr.odt", odt_bytes(
        ["Compte rendu de la réunion.", "Deuxième  paragraphe."], heading="Réunion d’équipe", author="Paul Éluard",
        table=[["Élève", "Note"]], note="Une note"))
    doc = read_document(str(path))
    assert doc.title == "Réunion d’équipe"
    assert doc.fields == {"author": "Paul Éluard", "date": "2023-11-02"}
    assert "Compte rendu de la réunion. Une note" in doc.body
    assert "Deuxième paragraphe." in doc.body and "Élève" in doc.body


def test_rtf_escapes_and_info(tmp_path: Path) -> None:
    rtf = (
        rb"{\rtf1\ansi\ansicpg1252\uc1{\fonttbl{\f0 Times;}}{\colortbl;\red0\green0\blue0;}"
        rb"{\info{\title R\'e9sum\'e9 de l\'92\'e9t\'e9}{\author Jean-Fran\'e7ois}{\creatim\yr2022\mo5\dy3}}"
        rb"{\*\generator Word;}\f0 L\rquote \'e9t\'e9 \u233e est l\u224\'e0.\par "
        rb"{\field{\*\fldinst HYPERLINK \"http://secret.example\"}{\fldrslt le lien}} \u339? uvre\par"
        rb"{\pict\bin6 }{x\{}"
        rb"}"
    )
    doc = read_document(str(write(tmp_path / "note.rtf", rtf)))
    assert doc.title == "Résumé de l’été"
    assert doc.fields == {"author": "Jean-François", "date": "2022-05-03"}
    assert doc.body == "L’été é est là.\nle lien œ uvre"
    assert "secret" not in doc.body and "Times" not in doc.body and "Word" not in doc.body


def test_epub_chapters_in_spine_order(tmp_path: Path) -> None:
    path = write(tmp_path / "livre.epub", epub_bytes(
        [("Chapitre premier", "Il était une fois."), ("Chapitre second", "La fin de l’histoire.")],
        title="Contes", author="Charles Perrault", spine=[1, 0]))
    doc = read_document(str(path))
    assert doc.title == "Contes" and doc.fields == {"author": "Charles Perrault", "date": "2021-06-01"}
    assert doc.body.index("Chapitre second") < doc.body.index("Chapitre premier")
    assert "Il était une fois." in doc.body


@pytest.mark.parametrize("charset, cte", [("utf-8", "quoted-printable"), ("iso-8859-1", "base64"),
                                          ("windows-1252", "8bit")])
def test_email_subject_body_sender_date(tmp_path: Path, charset: str, cte: str) -> None:
    path = write(tmp_path / "mail.eml", eml_bytes(
        "Réunion de lundi à Besançon", "Bonjour, la réunion est déplacée à mardi. Cordialement, Hélène",
        sender="Hélène Martin <helene@example.fr>", date="Mon, 4 Mar 2024 10:00:00 +0100",
        charset=charset, cte=cte))
    doc = read_document(str(path))
    assert doc.title == "Réunion de lundi à Besançon"
    assert doc.body == "Bonjour, la réunion est déplacée à mardi. Cordialement, Hélène"
    assert doc.fields == {"author": "Hélène Martin <helene@example.fr>", "date": "2024-03-04"}


def test_email_html_only(tmp_path: Path) -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = "Lettre d’information"
    message["From"] = "info@example.fr"
    message.set_content("<p>Les <b>nouveautés</b> de l’été</p><script>alert(1)</script>", subtype="html")
    doc = read_document(str(write(tmp_path / "news.eml", message.as_bytes())))
    assert doc.body == "Les nouveautés de l’été"


# ---------------------------------------------------------------------------
# Markdown: the text a reader sees


def test_markdown_is_read_as_rendered_text(tmp_path: Path) -> None:
    note = write(tmp_path / "note.md", (
        "# Notes de lecture\n\n"
        "Voir [la documentation](https://exemple.fr/chemin-secret) et ![un schéma](img/schema.png).\n\n"
        "<!-- commentaire caché -->\n\n"
        "<div class=\"note\">Une note en <em>HTML</em></div>\n\n"
        "| Ville | Région |\n|---|---|\n| Besançon | Doubs |\n\n"
        "```python\nprint('bonjour')\n```\n\n"
        "Du **gras** et de l’*italique*.\n"
    ).encode())
    doc = read_document(str(note))
    assert doc.title == "Notes de lecture"
    assert "la documentation" in doc.body and "un schéma" in doc.body
    assert "Une note en HTML" in doc.body
    for gone in ("https", "chemin-secret", "schema.png", "commentaire", "<!--", "|", "```", "**", "*italique*",
                 "<div", "class"):
        assert gone not in doc.body, gone
    assert "Besançon" in doc.body and "print('bonjour')" in doc.body and "Du gras et de l’italique." in doc.body
    with Index() as index:
        index.add_documents([doc])
        assert index.search("chemin secret") .hits == []
        assert index.search("commentaire").hits == []
        assert [h.id for h in index.search("documentation")] == [str(note)]


# ---------------------------------------------------------------------------
# Hostile and damaged files: skipped with one line, in bounded time and memory


def _pdf_page_with(resources: bytes) -> bytes:
    return assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Resources " + resources + b" /Contents 4 0 R >>",
        b"<< /Length 22 >>\nstream\nBT /F1 12 Tf (mot) Tj ET\nendstream",
    ], root=1)


@functools.lru_cache(maxsize=1)
def _hostile_files() -> dict[str, tuple[bytes, str]]:
    billion = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                   for i in range(1, 10))
        + b']><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">'
        b"<office:body>&lol9;</office:body></office:document-content>"
    )
    external = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">'
                b"&e;</office:document-content>")
    loop = assemble_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
                         b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>"], root=1)
    many = b" ".join([b"3 0 R"] * 200_000)
    huge_tree = assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + many + b"] /Count 200000 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>"], root=1)
    packer = zlib.compressobj(9)  # 100 MB of text operators, 300 KB compressed
    chunk = b"(aaaaaaaaaa) Tj " * 65_536
    bomb_stream = packer.compress(b"BT /F1 12 Tf ") + b"".join(packer.compress(chunk) for _ in range(100))
    bomb_stream += packer.compress(b" ET") + packer.flush()
    flate_bomb = assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(bomb_stream) + bomb_stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ], root=1)
    return {
        "bomb.docx": (zip_bomb("word/document.xml"), "zip bomb"),
        "bomb.odt": (zip_bomb("content.xml"), "zip bomb"),
        "bomb.epub": (zip_bomb("META-INF/container.xml"), "zip bomb"),
        "laughs.odt": (odt_bytes([], content_xml=billion), "declares entities"),
        "external.odt": (odt_bytes([], content_xml=external), "declares entities"),
        "loop.pdf": (loop, "cyclic"),
        "huge-tree.pdf": (huge_tree, "refused PDF"),
        "deep.pdf": (_pdf_page_with(b"[" * 100_000 + b"]" * 100_000), "PDF"),
        "flate-bomb.pdf": (flate_bomb, "refused PDF"),
        "truncated.pdf": (pdf_bytes([["Un texte coupé"]])[:150], "damaged PDF"),
        "garbage.pdf": (b"%PDF-1.7\n" + bytes(range(256)) * 100, "PDF"),
        "not-a-zip.docx": (b"PK\x03\x04 this is not a zip at all", "damaged Word file"),
        "no-content.odt": (zip_bomb("other.xml", size=1024 * 1024), "content.xml is missing"),
        "broken.rtf": (b"{\\rtf1 " + b"{" * 20_000 + b"texte", "nested too deeply"),
        "not.rtf": (b"just text, no header", "not an RTF file"),
        "empty.eml": (b"\n\n\n", "empty file"),
    }


def test_hostile_files_are_skipped_with_a_reason_in_bounded_time_and_memory(tmp_path: Path) -> None:
    for name, (data, _reason) in _hostile_files().items():
        write(tmp_path / "docs" / name, data)
    write(tmp_path / "docs" / "bon.pdf", pdf_bytes([["Un document sain parmi les autres."]]))
    tracemalloc.start()
    started = time.monotonic()
    with Index(tmp_path / "ix") as index:
        report = index.index_paths([str(tmp_path / "docs")])
        elapsed = time.monotonic() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        reasons = {Path(s.path).name: s.reason for s in report.skipped}
        for name, (_data, expected) in _hostile_files().items():
            assert expected in reasons.get(name, ""), (name, reasons.get(name))
            assert "\n" not in reasons[name] and len(reasons[name]) < 300
        assert [Path(p).name for p in report.added] == ["bon.pdf"]
        assert [Path(h.path).name for h in index.search("document sain")] == ["bon.pdf"]
    assert elapsed < 60, elapsed  # a bound, not a speed measure (about 5 s here)
    assert peak < 400 * 2**20, peak  # each zip bomb expands to 256 MB; pypdf stops a stream at 75 MB


def test_a_page_of_one_enormous_word_is_read_in_bounded_time(tmp_path: Path) -> None:
    """655,360 letters without a space or line end (the repair's regular expressions once took
    minutes on it: a word cut at a line end was searched from every letter)."""
    stream = b"BT /F1 12 Tf " + b"(aaaaaaaaaa) Tj " * 65_536 + b" ET"
    path = write(tmp_path / "mot.pdf", assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ], root=1))
    started = time.monotonic()
    assert len(read_document(str(path)).body) == 655_360
    assert repair_pdf_text("a" * 2_000_000 + "-\nb") == "a" * 2_000_000 + "b"
    assert time.monotonic() - started < 60  # a bound (about 2 s here), not a speed measure


def test_unknown_types_are_counted_by_extension(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    for name in ("a.xlsx", "b.xlsx", "c.png", "d", "e.txt", ".cache.bin"):
        write(docs / name, b"Du texte en clair.")
    with Index() as index:
        report = index.index_paths([str(docs)])
    assert {k: len(v) for k, v in report.not_read.items()} == {".xlsx": 2, ".png": 1, "(no extension)": 1}
    assert report.summary().endswith("4 not read: 2 .xlsx, 1 (no extension), 1 .png")
    assert report.as_dict()["not_read"] == {"(no extension)": 1, ".png": 1, ".xlsx": 2}


def test_files_and_drop(pdf: Path, tmp_path: Path) -> None:
    other = write(tmp_path / "sub" / "note.md", b"# Note\n\nUne baleine.")
    with Index(tmp_path / "ix") as index:
        index.index_paths([str(tmp_path)])
        files = index.files()
        assert [Path(f["path"]).name for f in files] == ["rapport.pdf", "note.md"]
        assert files[0]["pages"] == 3 and files[0]["fields"]["author"] == "Jean Dupont"
        assert index.drop([str(tmp_path / "sub")]) == [str(other)]
        assert other.exists()
        assert [Path(f["path"]).name for f in index.files()] == ["rapport.pdf"]
        assert index.drop([str(tmp_path / "nothing")]) == []


@pytest.mark.parametrize("suffix", [".ods", ".odp"])
def test_opendocument_spreadsheets_and_presentations_give_their_text(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"classeur{suffix}", odt_bytes([], table=[["Région", "Effectif"], ["Bretagne", "12"]],
                                                           title="Effectifs"))
    doc = read_document(str(path))
    assert doc.title == "Effectifs"
    assert "Région" in doc.body and "Bretagne" in doc.body
