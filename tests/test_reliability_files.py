"""Messy folders: no bad file stops a run, each is reported once, every name prints safely.

One folder holds every kind of trouble at once (encodings, binary data, a
200 MB file, empty files, links that go nowhere or in circles, a named pipe,
names with spaces, newlines, control characters or bytes that are not UTF-8).
Files that vanish, change or become unreadable between the listing and the
reading are simulated by patching the reading step.
"""

from __future__ import annotations

import codecs
import errno
import json
import os
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

import frsearch
import frsearch.sync
from frsearch.cli import cli
from tests.test_reliability_support import TALLY, assert_no_traceback, run_cli

TEXT = "L’été à Besançon : les élèves et Noël, déjà une œuvre"
BODY = "\n\nUn texte ordinaire sur la boulangerie du village et le fromage.\n"
BIG = 200 * 1024 * 1024
LATIN1_NAME = b"caf\xe9 cr\xe8me.txt"  # not UTF-8: Python sees it as 'caf\udce9 cr\udce8me.txt'

#: name -> None (indexed) or the reason it is skipped
EXPECTED: dict[str, str | None] = {}


def build_messy_folder(root: Path) -> dict[str, str | None]:
    """Every kind of bad input, with what frsearch must do with it."""
    root.mkdir()
    expected: dict[str, str | None] = {}

    def put(name: str, data: bytes, outcome: str | None) -> None:
        (root / name).write_bytes(data)
        expected[name] = outcome

    put("utf8.txt", (TEXT + BODY).encode(), None)
    put("invalid-utf8.txt", (TEXT + BODY).encode() + b"\xff\xfe\xc3\x28 fin\n", None)
    put("mixed-encodings.txt", (TEXT + "\n").encode() + "Élève Noël déjà\n".encode("cp1252") + BODY.encode(), None)
    put("latin1.txt", (TEXT.replace("’", "'").replace("œ", "oe") + BODY).encode("latin-1"), None)
    put("utf16-le-bom.txt", (TEXT + BODY).encode("utf-16"), None)
    put("utf16-be-bom.txt", codecs.BOM_UTF16_BE + (TEXT + BODY).encode("utf-16-be"), None)
    put("utf16-le-nobom.txt", (TEXT + BODY).encode("utf-16-le"), None)
    put("utf16-be-nobom.txt", (TEXT + BODY).encode("utf-16-be"), None)
    put("utf32-bom.txt", (TEXT + BODY).encode("utf-32"), None)
    put("utf8-bom-invalid.txt", codecs.BOM_UTF8 + b"Titre\n\xff\xfe du texte", "invalid UTF-8-SIG text (invalid start byte)")
    put("utf16-odd-length.txt", (TEXT + BODY).encode("utf-16") + b"\x00", "invalid UTF-16 text (truncated data)")
    put("nul-bytes.txt", (TEXT + BODY).encode() + b"\x00\x00\x00" + b"suite\n", "binary file (contains NUL bytes)")
    put("png-named.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "binary file (contains NUL bytes)")
    put("controls.txt", bytes(range(1, 9)) * 200, "binary file (control characters)")
    put("empty.txt", b"", "empty file")
    put("blank.md", b"  \n\n\t \r\n", "empty file")
    put("markup-only.html", b"<html><head><script>var a;</script></head><body></body></html>", "no text")
    put("broken-markup.html", b"<html><title>Page <b>cassee</title><body><p>Texte <i>sans fin" + BODY.encode(), None)
    put("one-long-line.md", ("mot " * 250_000).encode(), None)
    put("name with spaces.txt", (TEXT + BODY).encode(), None)
    put("name\nwith\nnewlines.txt", (TEXT + BODY).encode(), None)
    put("name\x1b[31mwith\x07escapes\x9b.txt", (TEXT + BODY).encode(), None)
    with open(root / "big.txt", "wb") as handle:  # sparse: 200 MB that take no room
        handle.truncate(BIG)
    expected["big.txt"] = f"too large ({BIG:,} bytes; the limit is {32 * 1024 * 1024:,})"
    with open(os.path.join(os.fsencode(root), LATIN1_NAME), "wb") as handle:
        handle.write((TEXT + BODY).encode())
    expected[os.fsdecode(LATIN1_NAME)] = None
    os.symlink(root / "nowhere.txt", root / "broken-link.txt")
    expected["broken-link.txt"] = "broken symbolic link"
    os.symlink("loop-b.txt", root / "loop-a.txt")
    os.symlink("loop-a.txt", root / "loop-b.txt")
    expected["loop-a.txt"] = expected["loop-b.txt"] = "symbolic link loop"
    os.symlink("self-loop.txt", root / "self-loop.txt")
    expected["self-loop.txt"] = "symbolic link loop"
    os.mkfifo(root / "named-pipe.txt")  # opening it for reading would wait for a writer forever
    expected["named-pipe.txt"] = "not a regular file"
    sub = root / "sub"
    sub.mkdir()
    (sub / "nested.md").write_text("# Imbriqué\n\nUn fichier dans un sous-dossier.", encoding="utf-8")
    expected[os.path.join("sub", "nested.md")] = None
    os.symlink("..", sub / "up")  # a directory loop: links to folders are not followed
    os.symlink(".", sub / "here")
    os.symlink("../sub", sub / "again.txt")  # a link to a folder, named like a text file: not followed
    (root / "folder.txt").mkdir()  # a folder named like a text file is walked, not read
    (root / ".hidden.txt").write_text("caché", encoding="utf-8")
    (root / "ignored.xlsx").write_bytes(b"PK\x03\x04")  # a type frsearch does not read: counted, not skipped
    return expected


@pytest.fixture()
def messy(tmp_path: Path) -> Path:
    root = tmp_path / "messy"
    EXPECTED.clear()
    EXPECTED.update(build_messy_folder(root))
    return root


def outcomes(report: frsearch.SyncReport, root: Path) -> dict[str, str | None]:
    seen: dict[str, str | None] = {}
    for path in report.added + report.updated:
        name = os.path.relpath(path, root)
        assert name not in seen, f"{name!r} reported twice"
        seen[name] = None
    for skipped in report.skipped:
        name = os.path.relpath(skipped.path, root)
        assert name not in seen, f"{name!r} reported twice"
        seen[name] = skipped.reason
    return seen


def test_every_bad_file_is_skipped_with_its_reason_once(messy: Path, tmp_path: Path) -> None:
    tracemalloc.start()
    try:
        with frsearch.Index(tmp_path / "idx") as index:
            report = index.index_paths([str(messy)])
            peak = tracemalloc.get_traced_memory()[1]
            assert outcomes(report, messy) == EXPECTED
            # The 200 MB file is refused from its size: memory stays far below it.
            assert peak < 40 * 1024 * 1024, peak
            again = index.index_paths([str(messy)])
            assert again.unchanged == len(report.added) and not again.added and not again.removed
            assert outcomes(again, messy) == {k: v for k, v in EXPECTED.items() if v is not None}
            hit = index.search("boulangerie village", limit=100)
            assert hit.total == sum(1 for v in EXPECTED.values() if v is None) - 2  # all but the long line and nested.md
            names = {os.path.basename(h.path) for h in hit}
            assert os.fsdecode(LATIN1_NAME) in names and "name\nwith\nnewlines.txt" in names
            latin = next(h for h in hit if h.path.endswith(os.fsdecode(LATIN1_NAME)))
            assert os.fsencode(latin.path).endswith(LATIN1_NAME)  # the name round-trips to its bytes
            assert index.get(latin.id)["path"] == latin.path
            assert latin.id in set(index.ids())
            assert index.search("Besançon").total >= 10  # the encodings were all decoded
    finally:
        tracemalloc.stop()
    TALLY["bad inputs tried"] = len(EXPECTED) + len(SIMULATED)


def test_the_cli_prints_every_name_safely(messy: Path, tmp_path: Path) -> None:
    where = str(tmp_path / "idx")
    done = run_cli("index", "--index", where, str(messy))
    assert done.returncode == 0, done.stderr
    assert_no_traceback(done.stderr)
    err = done.stderr.decode("utf-8")  # valid UTF-8 even with a Latin-1 file name
    assert "caf\\xe9 cr\\xe8me.txt" not in err  # indexed, so not listed
    assert f"skipped: {messy}/big.txt: too large" in err
    assert f"skipped: {messy}/named-pipe.txt: not a regular file" in err
    skipped = [line for line in err.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == len(set(skipped)) == sum(1 for v in EXPECTED.values() if v is not None)
    out = done.stdout.decode()
    assert out.startswith(f"{sum(1 for v in EXPECTED.values() if v is None)} added, 0 updated, 0 removed, 0 unchanged")
    for fmt in ("plain", "ansi", "html"):
        query = run_cli("query", "--index", where, "--limit", "50", "--format", fmt, "boulangerie")
        assert query.returncode == 0, query.stderr
        text = query.stdout.decode("utf-8")
        assert "caf\\xe9 cr\\xe8me.txt" in text
        assert "name\\x0awith\\x0anewlines.txt" in text
        assert "name\\x1b[31mwith\\x07escapes\\x9b.txt" in text
    for flag in ("--json", "--jsonl"):
        query = run_cli("query", "--index", where, "--limit", "50", flag, "boulangerie")
        assert query.returncode == 0, query.stderr
        text = query.stdout.decode("utf-8")
        rows = json.loads(text)["hits"] if flag == "--json" else [json.loads(line) for line in text.splitlines()[1:]]
        paths = {row["path"] for row in rows}
        # Undecodable bytes are \udcXX escapes in the JSON: json.loads gives back the very name.
        assert os.path.join(str(messy), os.fsdecode(LATIN1_NAME)) in paths
        assert any(os.fsencode(p).endswith(LATIN1_NAME) for p in paths)
    report = run_cli("index", "--json", "--index", where, str(messy))
    assert report.returncode == 0
    data = json.loads(report.stdout.decode("utf-8"))
    assert len(data["skipped"]) == sum(1 for v in EXPECTED.values() if v is not None)
    # A path that does not decode, given on the command line itself.
    given = os.path.join(os.fsencode(messy), LATIN1_NAME)
    done = run_cli("index", "--index", where, os.fsdecode(given))
    assert done.returncode == 0, done.stderr
    done = run_cli("index", "--index", where, os.fsdecode(given), os.fsdecode(given + b".missing"))
    assert done.returncode == 2  # a missing path given is an error, named safely
    assert "cr\\xe8me.txt.missing: does not exist" in done.stderr.decode("utf-8")


# ---------------------------------------------------------------------------
# Trouble between the listing and the reading, simulated in-process

SIMULATED = ("deleted", "emptied", "rewritten", "replaced by a folder", "permission denied",
             "folder permission denied", "vanished folder")


def test_files_that_change_between_listing_and_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("deleted.txt", "emptied.txt", "rewritten.txt", "folder.txt", "stable.txt"):
        (docs / name).write_text("Un titre\n\nDu texte sur la montagne." + BODY, encoding="utf-8")
    real_read = frsearch.sync.read_document

    def racing_read(path: str, **kwargs: object) -> frsearch.Document:
        name = os.path.basename(path)
        if name == "deleted.txt":
            os.remove(path)
        elif name == "emptied.txt":
            open(path, "wb").close()
        elif name == "rewritten.txt":
            Path(path).write_text("Nouveau titre\n\nUn glacier a tout recouvert.", encoding="utf-8")
        elif name == "folder.txt":
            os.remove(path)
            os.mkdir(path)
        return real_read(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(frsearch.sync, "read_document", racing_read)
    with frsearch.Index() as index:
        report = index.index_paths([str(docs)])
        assert outcomes(report, docs) == {
            "deleted.txt": "no longer exists",
            "emptied.txt": "empty file",
            "rewritten.txt": None,
            "folder.txt": "is a directory",
            "stable.txt": None,
        }
        assert index.search("glacier")[0].title == "Nouveau titre"


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreadable file and an unreadable folder are skipped with "permission denied".

    The tests run as root here, and root reads any file whatever its mode, so
    chmod 000 proves nothing: as root the refusal is simulated by patching
    os.open (which read_document opens files with) and os.scandir (which
    os.walk lists folders with) to raise PermissionError for those two paths,
    the error the kernel gives any other user. As another user, chmod is used.
    """
    docs = tmp_path / "docs"
    (docs / "closed").mkdir(parents=True)
    (docs / "secret.txt").write_text("Secret\n\nTexte protégé." + BODY, encoding="utf-8")
    (docs / "closed" / "inside.txt").write_text("Dedans\n\nTexte caché." + BODY, encoding="utf-8")
    (docs / "open.txt").write_text("Ouvert\n\nTexte public." + BODY, encoding="utf-8")
    secret, closed = str(docs / "secret.txt"), str(docs / "closed")
    if os.geteuid() == 0:
        real_open, real_scandir = os.open, os.scandir

        def denying_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
            if os.fspath(path) == secret:  # type: ignore[arg-type]
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
            return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

        def denying_scandir(path: object = ".") -> object:
            if os.fspath(path) == closed:  # type: ignore[arg-type]
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
            return real_scandir(path)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "open", denying_open)
        monkeypatch.setattr(os, "scandir", denying_scandir)
    else:
        os.chmod(secret, 0)
        os.chmod(closed, 0)
    try:
        with frsearch.Index() as index:
            report = index.index_paths([str(docs)])
    finally:
        if os.geteuid() != 0:
            os.chmod(secret, 0o644)
            os.chmod(closed, 0o755)
    assert outcomes(report, docs) == {
        "open.txt": None,
        "secret.txt": "permission denied",
        "closed": "folder cannot be read (Permission denied)",
    }


def test_a_folder_that_vanishes_while_walking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    (docs / "gone").mkdir(parents=True)
    (docs / "gone" / "a.txt").write_text("A\n\nTexte." + BODY, encoding="utf-8")
    (docs / "b.txt").write_text("B\n\nTexte." + BODY, encoding="utf-8")
    real_scandir = os.scandir

    def vanishing(path: object = ".") -> object:
        if os.fspath(path).endswith("gone"):  # type: ignore[arg-type]
            (docs / "gone" / "a.txt").unlink(missing_ok=True)
            (docs / "gone").rmdir()
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", vanishing)
    report = frsearch.Index().index_paths([str(docs)])
    assert outcomes(report, docs) == {"b.txt": None, "gone": "folder cannot be read (No such file or directory)"}


def test_max_size_is_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "small.txt").write_text("Petit\n\nUn petit texte." + BODY, encoding="utf-8")
    (docs / "two-mb.txt").write_bytes(("Gros\n\n" + "mot " * 600_000).encode())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["index", "--max-size", "1", str(docs)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "two-mb.txt: too large (2,400,006 bytes; the limit is 1,048,576)" in result.stderr
    assert result.stdout.startswith("1 added")
    assert_no_traceback(result.stderr)


def test_paths_given_twice_are_reported_once(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("A\n\nTexte." + BODY, encoding="utf-8")
    (docs / "empty.txt").write_bytes(b"")
    report = frsearch.Index().index_paths([str(docs), str(docs / "a.txt"), str(docs), str(docs / "empty.txt"),
                                           str(docs / "empty.txt")])
    assert [os.path.basename(p) for p in report.added] == ["a.txt"]
    assert sorted((os.path.basename(s.path), s.reason) for s in report.skipped) == [("empty.txt", "empty file")]


def test_library_documents_with_text_that_is_not_unicode(tmp_path: Path) -> None:
    """Lone surrogates (from os.fsdecode or a bad decode) in ids, titles and bodies."""
    with frsearch.Index(tmp_path / "idx") as index:
        index.add("caf\udce9", "Titre \udcff bizarre", "Le corps \ud800 du texte sur la montagne.")
        index.add("\x00nul", "Nul", "Un identifiant qui commence par NUL, montagne.")
        hits = {h.id: h for h in index.search("montagne")}
        assert set(hits) == {"caf\udce9", "\x00nul"}
        assert hits["caf\udce9"].title == "Titre \ufffd bizarre"
        assert index.get("caf\udce9") is not None and index.delete("caf\udce9")
        assert set(index.ids()) == {"\x00nul"}
