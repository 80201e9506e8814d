"""What frsearch prints and writes: no control sequence from a document reaches the
terminal, no document text becomes markup, no file is written outside the index
directory, and paths are shown as the user gave them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import frsearch
from frsearch.cli import cli
from tests.test_reliability_support import TALLY, assert_no_traceback, cli_command, cli_env, run_cli, tree

FILLER = " Un texte ordinaire, sans rien de spécial, pour que le fichier reste du texte." * 20
NASTY = "\x1b[2J\x1b]0;titre volé\x07\x1b[31mrouge\x9b31m\x08\x08\r\x1bc\x7f\u0085"
HTML_NASTY = "<script>alert(1)</script> <img src=x onerror=alert(2)> &lt;b&gt; \"guillemets\" 'apostrophes'"
# frsearch's own colours in --format ansi: bold yellow highlights (click.style) and the reset.
OWN_ANSI = re.compile(r"\x1b\[(?:33|1|0)m")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all C0 but tab and newline, DEL, C1
NAMES = ["esc\x1b[31mred\x07bell\x9bcsi\x08bs\rcr.txt", "<b>balise<b>&amp;.txt", "plain.txt"]


@pytest.fixture(scope="module")
def nasty_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("output")
    docs = root / "docs"
    docs.mkdir()
    for name in NAMES:
        (docs / name).write_text(
            f"Vulnérable {NASTY} titre {HTML_NASTY}\n\nLe corps vulnérable {NASTY} {HTML_NASTY}.{FILLER}",
            encoding="utf-8",
        )
    (docs / "page.html").write_text(
        f"<html><head><title>Vulnérable &#27;[31m &#7; &#x9b; &lt;script&gt;</title></head><body>"
        f"<p>Corps vulnérable &#27;]0;x&#7; &lt;script&gt;alert(3)&lt;/script&gt; {FILLER}</p></body></html>",
        encoding="utf-8",
    )
    (docs / "notes.md").write_text(f"---\ntitle: Vulnérable {NASTY} {HTML_NASTY}\n---\n\nCorps vulnérable.{FILLER}",
                                   encoding="utf-8")
    (docs / "binary\x1b[31m.txt").write_bytes(b"\x01\x02\x03" * 100)  # skipped: its name is printed
    where = root / "idx"
    with frsearch.Index(where) as index:
        index.index_paths([str(docs)])
        index.add(f"lib\x1b[31m{NASTY}", f"Vulnérable {NASTY}{HTML_NASTY}", f"Corps vulnérable {NASTY}{HTML_NASTY}",
                  note=NASTY)
    return where


def assert_terminal_safe(text: str, ansi: bool = False) -> None:
    if ansi:
        text = OWN_ANSI.sub("", text)
    found = CONTROL.findall(text)
    assert not found, (found, text[:500])


def invoke(*args: str) -> object:
    # color=True: click would otherwise strip some ANSI sequences itself and hide a leak.
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, color=True)
    assert_no_traceback(result.stdout, result.stderr)
    return result


@pytest.mark.parametrize("fmt", ["plain", "ansi", "html"])
def test_no_control_sequence_reaches_the_terminal(fmt: str, nasty_index: Path) -> None:
    for query in ("vulnérable", "titre rouge", '"corps vulnérable', "script alert", "csi OR bell"):
        result = invoke("query", "--index", str(nasty_index), "--limit", "20", "--format", fmt, query)
        assert result.exit_code in (0, 1)  # type: ignore[attr-defined]
        assert_terminal_safe(result.stdout, ansi=fmt == "ansi")  # type: ignore[attr-defined]
        assert_terminal_safe(result.stderr)  # type: ignore[attr-defined]
    out = invoke("query", "--index", str(nasty_index), "--limit", "20", "--format", fmt, "vulnérable").stdout  # type: ignore[attr-defined]
    assert out.count("\n1. ") + out.startswith("1. ") == 1 and "6. " in out  # six documents shown
    if fmt == "ansi":
        assert "\x1b[33m\x1b[1m" in out
    if fmt != "html":
        assert "esc\\x1b[31mred\\x07bell\\x9bcsi\\x08bs\\x0dcr.txt" in out  # the name, escaped
    TALLY["output checks"] = TALLY.get("output checks", 0) + 6


def test_html_output_escapes_document_text(nasty_index: Path) -> None:
    result = invoke("query", "--index", str(nasty_index), "--limit", "20", "--format", "html", "vulnérable script")
    out = result.stdout  # type: ignore[attr-defined]
    assert set(re.findall(r"<[^>]*>", out)) == {"<mark>", "</mark>"}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out.replace("<mark>", "").replace("</mark>", "")
    assert "&lt;b&gt;balise&lt;b&gt;&amp;amp;.txt" in out  # a file name is text too
    assert "<script" not in out and "onerror=alert" not in out.replace("&lt;img src=x onerror=alert", "")
    assert_terminal_safe(out)


@pytest.mark.parametrize("flag", ["--json", "--jsonl"])
def test_json_output_is_terminal_safe_and_exact(flag: str, nasty_index: Path) -> None:
    result = invoke("query", "--index", str(nasty_index), "--limit", "20", flag, "vulnérable")
    out = result.stdout  # type: ignore[attr-defined]
    assert_terminal_safe(out.replace("\n", ""))
    rows = json.loads(out)["hits"] if flag == "--json" else [json.loads(line) for line in out.splitlines()[1:]]
    paths = {row["path"] for row in rows if row["path"]}
    assert any("\x1b[31mred\x07bell\x9bcsi\x08bs\rcr.txt" in p for p in paths)  # exact once decoded
    for row in rows:
        assert not CONTROL.findall(row["title"] + (row["snippet"] or ""))  # removed when indexed


def test_other_commands_print_safely(nasty_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = nasty_index.parent / "docs"
    result = invoke("index", "--index", str(nasty_index), str(docs))
    assert "binary\\x1b[31m.txt: binary file" in result.stderr  # type: ignore[attr-defined]
    assert_terminal_safe(result.stdout + result.stderr)  # type: ignore[attr-defined]
    result = invoke("index", "--json", "--index", str(nasty_index), str(docs))
    assert_terminal_safe(result.stdout.replace("\n", ""))  # type: ignore[attr-defined]
    result = invoke("analyze", f"Vulnérable {NASTY}")
    assert_terminal_safe(result.stdout + result.stderr)  # type: ignore[attr-defined]
    odd = tmp_path / "index\x1b[31m\x9b"
    invoke("index", "--index", str(odd), str(docs / "plain.txt"))
    for args in (["stats"], ["stats", "--json"], ["query", "vulnérable"], ["query", "kangourou"]):
        result = invoke(*args, "--index", str(odd))
        assert_terminal_safe(result.stdout.replace("\n", "") + result.stderr.replace("\n", ""))  # type: ignore[attr-defined]
    result = invoke("query", "--index", str(tmp_path / "missing\x1b[31m"), "x")
    assert result.exit_code == 2 and "missing\\x1b[31m" in result.stderr  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# What is written, and where


def test_files_are_written_only_inside_the_index_directory(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.txt").write_text("Premier\n\nUn texte sur la montagne.", encoding="utf-8")
    (docs / "sub" / "b.md").write_text("# Second\n\nUn autre texte sur la mer.", encoding="utf-8")
    work, private_tmp, elsewhere = tmp_path / "work", tmp_path / "tmp", tmp_path / "elsewhere"
    for folder in (work, private_tmp, elsewhere):
        folder.mkdir()
    before = tree(tmp_path)
    commands = [
        ("index", "../docs"), ("index", "../docs"), ("query", "montagne"), ("query", "--json", "mer"),
        ("stats",), ("index", "--rebuild", "../docs"), ("index", "--json", "../docs"),
        ("query", "kangourou"), ("analyze", "L'État"),
    ]
    for args in commands:
        done = run_cli(*args, cwd=work, TMPDIR=str(private_tmp))
        assert done.returncode in (0, 1), (args, done.stderr)
    done = run_cli("index", "--index", str(elsewhere / "idx"), "../docs", cwd=work, TMPDIR=str(private_tmp))
    assert done.returncode == 0
    after = tree(tmp_path)
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    inside = (os.path.join("work", ".frsearch"), os.path.join("elsewhere", "idx"))
    # The two index folders appeared (and the folders holding them changed); nothing else.
    assert {p for p in changed if not p.startswith(inside)} == {"work", "elsewhere"}
    assert not os.listdir(private_tmp) and not os.listdir(elsewhere / "idx" / ".." / ".." / "tmp")
    assert sorted(os.listdir(work)) == [".frsearch"]


def test_an_in_memory_index_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)
    with frsearch.Index() as index:
        index.add_documents({"id": str(i), "title": f"Titre {i}", "body": "Du texte sur la montagne."} for i in range(50))
        index.delete("3")
        assert index.search("montagne").total == 49
    # The private temporary folder came and went: only the temp directory's own time changed.
    after = tree(tmp_path)
    assert after.keys() == before.keys() and os.listdir(private_tmp) == []
    assert {k: v for k, v in after.items() if k != "tmp"} == {k: v for k, v in before.items() if k != "tmp"}


def test_paths_open_from_any_directory(tmp_path: Path) -> None:
    docs = tmp_path / "project" / "docs"
    docs.mkdir(parents=True)
    (docs / "a.txt").write_text("Premier\n\nUn texte sur la montagne.", encoding="utf-8")
    (docs / "empty.txt").write_bytes(b"")
    other = tmp_path / "other"
    (other / "deep").mkdir(parents=True)
    (other / "deep" / "c.txt").write_text("Troisième\n\nEncore la montagne.", encoding="utf-8")
    where = str(tmp_path / "idx")
    done = run_cli("index", "--index", where, "docs", "./docs/a.txt", "../other/deep/", cwd=tmp_path / "project")
    assert done.returncode == 0
    assert done.stderr.decode() == f"skipped: {os.path.join('docs', 'empty.txt')}: empty file\n"
    done = run_cli("index", "--index", where, str(other / "deep"), cwd=tmp_path)
    assert done.returncode == 0
    # Queried from another directory: a path under it is relative to it, any other is absolute.
    query = run_cli("query", "--index", where, "--json", "montagne", cwd=other / "deep")
    assert query.returncode == 0
    shown = sorted(row["path"] for row in json.loads(query.stdout)["hits"])
    assert shown == sorted([str(docs / "a.txt"), "c.txt"])
    text = run_cli("query", "--index", where, "montagne", cwd=other).stdout.decode()
    assert f"   {docs / 'a.txt'}  (score" in text and f"   {os.path.join('deep', 'c.txt')}  (score" in text
    # A path given again another way names the same file (same absolute path): no duplicate.
    with frsearch.Index.open(where) as index:
        assert len(index) == 2


@pytest.mark.parametrize("fmt", [[], ["--json"]])
def test_a_reader_that_stops_early_is_no_error(fmt: list[str]) -> None:
    """`frsearch analyze … | head -1`: the pipe closes under frsearch, which stops quietly."""
    words = ["blacklisté États-Unis montagne " * 1000] * 20  # about 600 kB of output
    process = subprocess.Popen(cli_command("analyze", *fmt, *words), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=cli_env())
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) in (0, 1)
    assert err == b""
