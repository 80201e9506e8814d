"""A user's folder never costs them their index: missing paths, full disks, duplicates, batches."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from whoosh.filedb import filestore

import frsearch
from frsearch import sync as sync_module
from frsearch.cli import cli
from frsearch.index import FORMAT_VERSION, INDEX_NAME, META_FILE


def _ids(index: frsearch.Index) -> set[str]:
    return set(index.ids())


# ---------------------------------------------------------------------------
# A missing or unreadable path is an error, and nothing is removed


def test_a_missing_path_is_an_error_and_removes_nothing(tmp_path: Path, seeds_copy: Path) -> None:
    index = frsearch.Index(tmp_path / "idx")
    index.index_paths([seeds_copy])
    before = _ids(index)
    seeds_copy.rename(tmp_path / "renamed")
    with pytest.raises(frsearch.PathError, match="seeds: does not exist"):
        index.index_paths([seeds_copy])
    with pytest.raises(frsearch.PathError):
        index.index_paths([tmp_path / "renamed", seeds_copy])  # one missing path: nothing done
    assert _ids(index) == before and len(index.search("Xiaomi")) == 5


def test_cli_missing_path_exit_2_and_no_index_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FRSEARCH_INDEX", raising=False)
    result = CliRunner().invoke(cli, ["index", "/nonexistent"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "frsearch: error: /nonexistent: does not exist"
    assert not (tmp_path / ".frsearch").exists()


def test_only_files_seen_gone_from_a_folder_read_are_removed(tmp_path: Path, seeds_copy: Path) -> None:
    other = tmp_path / "other"
    (other / "sub").mkdir(parents=True)
    (other / "sub" / "note.txt").write_text("Une note sur les ornithorynques.", encoding="utf-8")
    index = frsearch.Index(tmp_path / "idx")
    index.index_paths([seeds_copy, other])
    # Gone from disk, but its folder is not among the paths of this run: kept.
    (seeds_copy / "000_60564f4e513c8b83.txt").unlink()
    report = index.index_paths([other])
    assert report.removed == [] and len(index) == 6
    # Its folder read in this run: removed.
    report = index.index_paths([seeds_copy])
    assert [Path(p).name for p in report.removed] == ["000_60564f4e513c8b83.txt"] and len(index) == 5
    # A whole sub-folder gone from a folder that was read: its files go too.
    shutil.rmtree(other / "sub")
    report = index.index_paths([other])
    assert [Path(p).name for p in report.removed] == ["note.txt"]


def test_files_under_an_unreadable_folder_are_kept(tmp_path: Path, seeds_copy: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (seeds_copy / "locked").mkdir()
    (seeds_copy / "locked" / "secret.txt").write_text("Un ornithorynque caché.", encoding="utf-8")
    index = frsearch.Index(tmp_path / "idx")
    index.index_paths([seeds_copy])
    assert len(index) == 6
    locked = str(seeds_copy / "locked")
    real_scandir = os.scandir

    def refusing(path: object = ".") -> object:  # root reads everything: simulate the refusal
        if os.fspath(path) == locked:  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", locked)
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", refusing)
    real_lexists = os.path.lexists
    monkeypatch.setattr(os.path, "lexists", lambda p: False if str(p).startswith(locked + os.sep) else real_lexists(p))
    report = index.index_paths([seeds_copy])
    assert report.removed == [] and len(index) == 6
    assert any("folder cannot be read" in s.reason for s in report.skipped)


# ---------------------------------------------------------------------------
# A full disk leaves nothing behind, and the index stays the last committed one


class _FullDisk(io.FileIO):
    """A file on a disk with ``room`` bytes left, shared by every file of one run."""

    room = [0]

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if len(data) > self.room[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room[0] -= len(data)
        return super().write(data)


def _fill_disk_after(monkeypatch: pytest.MonkeyPatch, room: int) -> None:
    _FullDisk.room[0] = room
    real_create = filestore.FileStorage.create_file

    def create_file(self: filestore.FileStorage, name: str, **kwargs: object) -> object:
        handle = real_create(self, name, **kwargs)
        raw = handle.file
        path = raw.name
        raw.close()
        handle.file = io.BufferedRandom(_FullDisk(path, "r+b"))  # just created: empty
        return handle

    monkeypatch.setattr(filestore.FileStorage, "create_file", create_file)


def _corpus(folder: Path, count: int) -> None:
    folder.mkdir()
    for i in range(count):
        words = " ".join(f"mot{i}x{j} ornithorynque{j % 50}" for j in range(300))
        (folder / f"doc{i:03}.txt").write_text(f"Document {i}\n\n{words}", encoding="utf-8")


@pytest.mark.parametrize("room", [0, 2_000, 60_000, 400_000])
def test_a_full_disk_leaves_no_debris_and_the_last_commit(tmp_path: Path, seeds_copy: Path,
                                                          monkeypatch: pytest.MonkeyPatch, room: int) -> None:
    where = tmp_path / "idx"
    with frsearch.Index(where) as index:
        index.index_paths([seeds_copy])
    files_before = sorted(os.listdir(where))
    _corpus(tmp_path / "big", 40)
    with monkeypatch.context() as patched:
        _fill_disk_after(patched, room)
        with frsearch.Index(where) as index, pytest.raises(OSError) as failure:
            index.index_paths([seeds_copy, tmp_path / "big"])
        assert failure.value.errno == errno.ENOSPC
    # Nothing half-written stays: the index folder holds what it held.
    left = sorted(name for name in os.listdir(where) if name != f"{INDEX_NAME}.tmp")
    assert left == files_before
    temp = where / f"{INDEX_NAME}.tmp"
    assert not temp.exists() or not os.listdir(temp)
    with frsearch.Index.open(where) as index:
        assert len(index) == 5
        # With room again, the next run does the job.
        report = index.index_paths([seeds_copy, tmp_path / "big"])
        assert len(report.added) == 40 and len(index) == 45


def test_cli_full_disk_is_one_line(tmp_path: Path, seeds_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FRSEARCH_INDEX", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["index", "seeds"]).exit_code == 0
    _corpus(tmp_path / "big", 10)
    _fill_disk_after(monkeypatch, 1000)
    result = runner.invoke(cli, ["index", "big"])
    assert result.exit_code == 2
    assert result.stderr == "frsearch: error: No space left on device\n"


# ---------------------------------------------------------------------------
# Duplicates in one batch; limits lowered; formats of a newer frsearch


@pytest.mark.parametrize("on_disk", [False, True])
def test_the_same_id_twice_in_a_batch_keeps_the_last(tmp_path: Path, on_disk: bool) -> None:
    with frsearch.Index(tmp_path / "idx" if on_disk else None) as index:
        written = index.add_documents([
            {"id": "a", "title": "Premier", "body": "un ornithorynque"},
            {"id": "b", "title": "Autre", "body": "rien"},
            {"id": "a", "title": "Second", "body": "un kangourou"},
        ])
        assert written == 2 and len(index) == 2
        assert not index.search("ornithorynque").hits
        assert [(h.id, h.title) for h in index.search("kangourou")] == [("a", "Second")]


def test_lowering_max_size_removes_files_now_too_large(tmp_path: Path, seeds_copy: Path) -> None:
    index = frsearch.Index(tmp_path / "idx")
    index.index_paths([seeds_copy])
    big = seeds_copy / "001_259af9e2aad0fd78.txt"
    report = index.index_paths([seeds_copy], max_size=big.stat().st_size - 1)
    assert [Path(p).name for p in report.removed] == [big.name]
    assert any(s.reason.startswith("too large") for s in report.skipped)
    assert not any(Path(h.path or "").name == big.name for h in index.search("Xiaomi", limit=10))


def test_an_index_of_a_newer_frsearch_says_upgrade(tmp_path: Path, seeds_copy: Path) -> None:
    where = tmp_path / "idx"
    frsearch.Index(where).index_paths([seeds_copy])
    meta = json.loads((where / META_FILE).read_text())
    meta.update(format=FORMAT_VERSION + 1, frsearch="9.0")
    (where / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(frsearch.IndexFormatError) as failure:
        frsearch.Index.open(where)
    assert "newer frsearch (9.0" in failure.value.message
    assert "Upgrade frsearch" in (failure.value.hint or "")


# ---------------------------------------------------------------------------
# An interrupted first run keeps the batches it committed


def test_an_interrupted_run_keeps_its_committed_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _corpus(tmp_path / "big", 25)
    monkeypatch.setattr(sync_module, "COMMIT_DOCS", 10)

    def interrupt(done: int, total: int) -> None:
        if done == 23:
            raise KeyboardInterrupt

    with frsearch.Index(tmp_path / "idx") as index:
        with pytest.raises(KeyboardInterrupt):
            index.index_paths([tmp_path / "big"], progress=interrupt)
        assert len(index) == 20  # two batches of 10 committed, the third abandoned
        report = index.index_paths([tmp_path / "big"])
        assert report.unchanged == 20 and len(report.added) == 5 and len(index) == 25
    assert not [n for n in os.listdir(tmp_path / "idx") if n.endswith(".toc.tmp")]


def test_a_rebuild_in_batches_drops_the_old_documents_once(tmp_path: Path, seeds_copy: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _corpus(tmp_path / "big", 25)
    monkeypatch.setattr(sync_module, "COMMIT_DOCS", 10)
    with frsearch.Index(tmp_path / "idx") as index:
        index.add("extra", "Extra", "un kangourou à part")
        report = index.index_paths([tmp_path / "big", seeds_copy], rebuild=True)
        assert len(report.added) == 30 and len(index) == 30
        assert not index.search("kangourou").hits


# ---------------------------------------------------------------------------
# Library misuse is a FrsearchError with a clear message


def test_library_misuse_gets_clear_errors() -> None:
    with frsearch.Index() as index:
        index.add(id="a", title="Titre", body="Un ornithorynque.")
        assert [h.id for h in index.search("ornithorynque")] == ["a"]
        with pytest.raises(frsearch.DocumentError, match="id must be a string, not int"):
            index.add(123, "Titre", "Corps")
        with pytest.raises(frsearch.DocumentError, match="id must be a string, not int"):
            index.add_documents([{"id": 7, "title": "x", "body": "y"}])
        with pytest.raises(frsearch.DocumentError, match="body must be a string, not bytes"):
            index.add("b", "Titre", b"Corps")  # type: ignore[arg-type]
        with pytest.raises(frsearch.DocumentError, match="needs an 'id'"):
            index.add_documents([{"title": "x"}])
        assert len(index) == 1


# ---------------------------------------------------------------------------
# Notes on a query: short, once, and only when something the user asked for was dropped


def test_a_natural_question_gets_no_stopword_notes() -> None:
    assert frsearch.parse_query("combien de jours de congé pour un mariage ? et de la paie").notes == []


def test_a_stopword_asked_for_gets_one_note() -> None:
    notes = frsearch.parse_query("congé +de +de titre:le").notes
    assert notes == ["'de' is a stopword or punctuation: ignored", "'le' is a stopword or punctuation: ignored"]


def test_an_unknown_field_gets_a_note() -> None:
    parsed = frsearch.parse_query("couleur:rouge congé")
    [note] = parsed.notes
    assert note.startswith("unknown field 'couleur:' (fields are ") and "titre:" in note
    assert note.endswith("): searched as words")
    assert "roug" in parsed.describe()
    assert frsearch.parse_query("rendez-vous à 12:30").notes == []


# ---------------------------------------------------------------------------
# A quoted phrase is highlighted as a phrase, and the snippet is chosen around it

_RUPTURE = (
    "La rupture du contrat de travail peut avoir plusieurs causes. " * 3
    + "Une rupture abusive coûte cher. " * 4
    + "Le salarié et l'employeur peuvent convenir d'une rupture conventionnelle du contrat. "
    + "Autre texte sans rapport. " * 20
)


def test_a_phrase_is_highlighted_where_it_occurs() -> None:
    with frsearch.Index() as index:
        index.add("a", "Rupture du contrat", _RUPTURE)
        hit = index.search('"rupture conventionnelle"')[0]
        shown = [hit.snippet.text[s:e] for s, e in hit.snippet.spans]
        assert shown == ["rupture conventionnelle"]
        assert hit.title_spans == []  # "Rupture" alone is not the phrase
        hit = index.search('"rupture conventionnelle" contrat')[0]
        assert "rupture conventionnelle" in [hit.snippet.text[s:e] for s, e in hit.snippet.spans]
        assert [hit.title[s:e] for s, e in hit.title_spans] == ["contrat"]
        # Free words are still highlighted one by one.
        hit = index.search("rupture abusive")[0]
        assert "rupture abusive" in [hit.snippet.text[s:e].lower() for s, e in hit.snippet.spans]
        assert index.search("rupture")[0].title_spans == [(0, 7)]


def test_a_synonym_phrase_is_highlighted_as_a_phrase() -> None:
    synonyms = frsearch.parse_synonyms("RC => rupture conventionnelle")
    with frsearch.Index() as index:
        index.add("a", "Rupture du contrat", _RUPTURE)
        hit = index.search("RC", synonyms=synonyms)[0]
        assert [hit.snippet.text[s:e] for s, e in hit.snippet.spans] == ["rupture conventionnelle"]


# ---------------------------------------------------------------------------
# Legal references meet across their usual spellings

_REFERENCES = ["L. 3142-1", "L3142-1", "article L 3142-1", "l’article L.3142-1", "L 3142-1"]


@pytest.mark.parametrize("query", ["L. 3142-1", "L3142-1", "L 3142-1", "L.3142-1", '"L. 3142-1"', "l3142-1"])
def test_legal_references_meet_as_phrases(query: str) -> None:
    with frsearch.Index() as index:
        for i, written in enumerate(_REFERENCES):
            index.add(f"d{i}", "Congés", f"Selon {written}, le salarié a droit à un congé.")
        index.add("other", "Autre", "Selon L. 3142-2 et L. 1142-1, rien à voir ; 3142 jours.")
        index.add("r", "Autre", "Article R. 3142-1 du code.")
        results = index.search(query)
        assert sorted(h.id for h in results) == [f"d{i}" for i in range(len(_REFERENCES))]
        assert index.search("R3142-1")[0].id == "r" and len(index.search("R3142-1")) == 1
        assert [h.id for h in index.search("D. 4153-15")] == []
