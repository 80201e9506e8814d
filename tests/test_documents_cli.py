"""The command line with documents: pages in hits, files not read, listing and dropping files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from frsearch.cli import cli
from tests.docfiles import docx_bytes, pdf_bytes, write


@pytest.fixture()
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FRSEARCH_INDEX", raising=False)
    docs = tmp_path / "docs"
    write(docs / "rapport.pdf", pdf_bytes(
        [["Introduction"], ["Le budget de l’État."], ["Les baleines bleues."]], title="Rapport", author="Jean Dupont"))
    write(docs / "lettre.docx", docx_bytes(["Une lettre sur les baleines."], title="Lettre", author="Marie Curie"))
    for name in ("tableau.xlsx", "photo.png", "photo2.png"):
        write(docs / name, b"\x00\x01")
    return CliRunner()


def run(runner: CliRunner, *args: str):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def hits(stdout: str) -> list[dict]:
    """The hits of `query --json` (an array of hits, or an object holding them)."""
    data = json.loads(stdout)
    return data["hits"] if isinstance(data, dict) else data


def test_index_counts_files_not_read_and_verbose_lists_them(runner: CliRunner) -> None:
    result = run(runner, "index", "docs")
    assert result.exit_code == 0
    assert result.stdout.startswith("2 added, 0 updated, 0 removed, 0 unchanged, 0 skipped, "
                                    "3 not read: 2 .png, 1 .xlsx (")
    assert "not read" not in result.stderr
    result = run(runner, "index", "--verbose", "--rebuild", "docs")
    assert "not read (.png): docs/photo.png\nnot read (.png): docs/photo2.png\n" in result.stderr
    assert json.loads(run(runner, "index", "--json", "docs").stdout)["not_read"] == {".png": 2, ".xlsx": 1}


def test_a_pdf_hit_shows_its_page(runner: CliRunner) -> None:
    run(runner, "index", "docs")
    result = run(runner, "query", "baleines")
    lines = result.stdout.splitlines()
    assert any("rapport.pdf, p. 3  (score " in line for line in lines)
    assert "   Les **baleines** bleues." in lines
    assert any("lettre.docx  (score " in line for line in lines)  # no page
    found = hits(run(runner, "query", "--json", "baleines").stdout)
    assert {Path(h["path"]).name: h["page"] for h in found} == {"rapport.pdf": 3, "lettre.docx": None}
    author = hits(run(runner, "query", "--json", "auteur:curie").stdout)
    assert [(Path(h["path"]).name, h["fields"]["author"]) for h in author] == [("lettre.docx", "Marie Curie")]


def test_files_lists_and_drop_removes_from_the_index_only(runner: CliRunner) -> None:
    run(runner, "index", "docs")
    listed = json.loads(run(runner, "files", "--json").stdout)
    assert [(f["path"], f.get("pages")) for f in listed] == [("docs/lettre.docx", None), ("docs/rapport.pdf", 3)]
    plain = run(runner, "files")
    assert plain.stdout.splitlines() == ["docs/lettre.docx  Lettre", "docs/rapport.pdf  (3 p.)  Rapport"]
    result = run(runner, "drop", "docs/rapport.pdf")
    assert result.exit_code == 0 and result.stdout == "dropped: docs/rapport.pdf\n"
    assert Path("docs/rapport.pdf").exists()
    assert [f["path"] for f in json.loads(run(runner, "files", "--json").stdout)] == ["docs/lettre.docx"]
    again = run(runner, "drop", "docs/rapport.pdf")
    assert again.exit_code == 1 and "None of these paths is in the index." in again.stderr


def test_help_says_what_is_read(runner: CliRunner) -> None:
    text = run(runner, "index", "--help").stdout
    for kind in ("PDF", ".docx", ".odt", ".rtf", ".epub", ".eml", ".md", ".html", "--watch", "not read"):
        assert kind in text, kind
