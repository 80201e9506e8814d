"""Reading files: encodings, binary detection, markup, titles."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from frsearch.documents import (
    SkippedFile,
    decode_bytes,
    html_to_text,
    read_document,
    title_from_text,
)
from frsearch.errors import DocumentError

TEXT = "L’été à Besançon : œuvres, élèves et Noël «  déjà » — 7,7 €"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with BOM
        TEXT.encode("utf-16-le"),  # no BOM
        TEXT.encode("utf-16-be"),
        TEXT.encode("utf-32"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16le", "utf16be", "utf32"],
)
def test_unicode_encodings_decode_exactly(data: bytes) -> None:
    assert decode_bytes(data) == TEXT


def test_legacy_french_encodings_decode_without_mojibake() -> None:
    text = "Élève à l’école, déjà œuvré pour 7 € — « Noël »"
    assert decode_bytes(text.encode("cp1252")) == text
    latin1 = "Élève à l'école, déjà élu"
    assert decode_bytes(latin1.encode("latin-1")) == latin1


def test_binary_data_is_refused() -> None:
    with pytest.raises(DocumentError, match="binary"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(DocumentError, match="binary"):
        decode_bytes(bytes(range(1, 32)) * 50)


def test_html_drops_markup_scripts_and_styles() -> None:
    title, body = html_to_text(
        "<html><head><title>Le titre &amp; co</title><style>p{color:red}</style>"
        "<script>alert('x')</script></head><body><h1>Grand titre</h1>"
        "<p>Un <b>texte</b> &eacute;crit.</p><script>var a = 1;</script></body></html>"
    )
    assert title == "Le titre & co"
    assert "alert" not in body and "color" not in body and "var a" not in body
    assert "Un texte écrit." in body
    assert "Grand titre" in body


def test_html_title_falls_back_to_h1(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<body><h1>Le vrai titre</h1><p>Du texte ici.</p></body>", encoding="utf-8")
    assert read_document(str(page)).title == "Le vrai titre"


def test_markdown_title_is_its_first_heading(tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("Intro line.\n\n# Mon titre\n\nDu texte.\n", encoding="utf-8")
    assert read_document(str(note)).title == "Mon titre"
    front = tmp_path / "front.md"
    front.write_text('---\ntitle: "Front matter"\n---\n# Autre\n', encoding="utf-8")
    assert read_document(str(front)).title == "Front matter"


@pytest.mark.parametrize(
    "text, title",
    [
        ("Un titre simple\n\nLe corps du texte.", "Un titre simple"),
        ("Accueil > Rubrique > Un article important\nRubrique\n\nUn article important sur le sujet\n\nTexte.",
         "Un article important sur le sujet"),
        ("mon-article-de-blog-03\n\nLe vrai titre de l'article\n\nTexte.", "Le vrai titre de l'article"),
        ("https://exemple.fr/page\nLe titre après une adresse\n\nTexte.", "Le titre après une adresse"),
        ("2021-03-04\n\nUn titre après une date\n\nTexte.", "Un titre après une date"),
        ("Politique\nMarché Intérieur\n\nLe gouvernement annonce un plan\n\nTexte.",
         "Le gouvernement annonce un plan"),
        ("Bonjour Paris\n\nUn long paragraphe qui commence le texte, avec une phrase. Et une autre.",
         "Bonjour Paris"),
        (" date 2021-03 Au terme de deux jours, le conseil a voté la loi. La suite du texte.",
         "Au terme de deux jours, le conseil a voté la loi"),
    ],
)
def test_plain_text_titles(text: str, title: str) -> None:
    assert title_from_text(text) == title


def test_long_first_sentence_makes_a_short_title() -> None:
    sentence = "Au terme " + " ".join(["de nombreuses discussions"] * 20) + ". Suite."
    title = title_from_text(sentence)
    assert len(title) <= 101 and title.endswith("…") and title.startswith("Au terme de")


def test_seed_titles() -> None:
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    titles = {p.name[:3]: read_document(str(p)).title for p in sorted(seeds.glob("*.txt"))}
    assert titles["000"] == "Xiaomi refuse les avances de Facebook"
    assert titles["001"] == "Xiaomi est blacklisté par les États-Unis à cause de son patron"
    assert titles["002"].startswith("Au terme de deux conférences, Lei Jun")
    assert titles["003"] == "Xiaomi devrait lancer ses smartphones sur le marché américain en 2018"
    assert titles["004"] == "[Asie] Xiaomi se risque hors de Chine pour conquérir Singapour"


@pytest.mark.parametrize(
    "content, reason",
    [(b"", "empty"), (b"   \n\n", "empty"), (b"\x00\x01\x02binary\x00" * 20, "binary")],
)
def test_unindexable_files_are_skipped_with_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(content)
    with pytest.raises(SkippedFile, match=reason):
        read_document(str(path))


def test_too_large_files_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("mot " * 1000, encoding="utf-8")
    with pytest.raises(SkippedFile, match="too large"):
        read_document(str(path), max_size=100)


def test_control_characters_are_removed_from_text(tmp_path: Path) -> None:
    path = tmp_path / "ctl.txt"
    path.write_bytes("Titre\n\nDu texte \x1b[31mrouge\x1b[0m et \x07 cloche.".encode())
    body = read_document(str(path)).body
    assert "\x1b" not in body and "\x07" not in body and "rouge" in body
