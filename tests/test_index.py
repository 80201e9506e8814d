"""The Index: documents from strings, incremental sync of folders, format checks."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import frsearch
from frsearch.index import FORMAT_VERSION, META_FILE


def test_in_memory_index_with_documents_from_strings() -> None:
    with frsearch.Index() as index:
        index.add("a", "Les États-Unis", "Xiaomi placé sur liste noire", lang="fr")
        index.add_documents([
            {"id": "b", "title": "Autre", "body": "Rien à voir avec le sujet", "url": "https://b"},
            frsearch.Document(id="c", title="Encore", body="La liste noire américaine"),
        ])
        assert len(index) == 3
        hits = index.search("liste noire")
        assert [h.id for h in hits] == ["a", "c"] or [h.id for h in hits] == ["c", "a"]
        assert not index.search("https").hits  # extra fields are stored, not searched
        hit = index.search("sujet")[0]
        assert hit.id == "b" and hit.fields == {"url": "https://b"}
        assert index.search("etats unis")[0].fields == {"lang": "fr"}


def test_adding_the_same_id_replaces_the_document() -> None:
    index = frsearch.Index()
    index.add("a", "Titre", "ancien contenu")
    index.add("a", "Titre", "nouveau contenu")
    assert len(index) == 1
    assert not index.search("ancien").hits
    assert index.delete("a") and len(index) == 0


def test_documents_need_an_id() -> None:
    with pytest.raises(frsearch.DocumentError):
        frsearch.Index().add_documents([{"title": "x", "body": "y"}])


def test_incremental_sync(tmp_path: Path, seeds_copy: Path) -> None:
    where = tmp_path / "idx"
    index = frsearch.Index(where)
    first = index.index_paths([str(seeds_copy)])
    assert (len(first.added), first.unchanged) == (5, 0)

    again = index.index_paths([str(seeds_copy)])
    assert (len(again.added), len(again.updated), len(again.removed), again.unchanged) == (0, 0, 0, 5)

    changed = seeds_copy / "000_60564f4e513c8b83.txt"
    changed.write_text("Un titre neuf\n\nDes kangourous en Australie.", encoding="utf-8")
    os.utime(changed, (time.time() + 5, time.time() + 5))
    (seeds_copy / "004_772669a71db343fa.txt").unlink()
    (seeds_copy / "new.md").write_text("# Nouveau\n\nDes koalas.", encoding="utf-8")
    report = index.index_paths([str(seeds_copy)])
    assert [Path(p).name for p in report.updated] == ["000_60564f4e513c8b83.txt"]
    assert [Path(p).name for p in report.removed] == ["004_772669a71db343fa.txt"]
    assert [Path(p).name for p in report.added] == ["new.md"]
    assert report.unchanged == 3
    assert report.summary() == "1 added, 1 updated, 1 removed, 3 unchanged, 0 skipped"
    assert len(index) == 5
    assert index.search("kangourous")[0].title == "Un titre neuf"
    assert not index.search("Singapour").hits
    assert index.search("koalas")[0].title == "Nouveau"


def test_touched_but_identical_file_is_unchanged(seeds_copy: Path) -> None:
    index = frsearch.Index()
    index.index_paths([str(seeds_copy)])
    path = seeds_copy / "001_259af9e2aad0fd78.txt"
    os.utime(path, (time.time() + 10, time.time() + 10))
    report = index.index_paths([str(seeds_copy)])
    assert report.unchanged == 5 and not report.updated
    assert index.index_paths([str(seeds_copy)]).unchanged == 5


def test_hit_paths_are_absolute(tmp_path: Path, seeds_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(seeds_copy.parent)
    index = frsearch.Index(tmp_path / "idx")
    index.index_paths(["seeds"])
    hit = index.search("Singapour")[0]
    assert hit.path == str(seeds_copy / "004_772669a71db343fa.txt")
    assert hit.id == str(seeds_copy / "004_772669a71db343fa.txt")


def test_bad_files_are_skipped_and_the_run_goes_on(tmp_path: Path, seeds_copy: Path) -> None:
    (seeds_copy / "empty.txt").write_bytes(b"")
    (seeds_copy / "binary.txt").write_bytes(b"\x00\xff\x00\xfe" * 100)
    (seeds_copy / "ignored.xlsx").write_bytes(b"PK")  # not read: counted, not skipped
    (seeds_copy / "broken.txt").symlink_to(tmp_path / "missing")
    report = frsearch.Index().index_paths([str(seeds_copy)])
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons == {
        "empty.txt": "empty file",
        "binary.txt": "binary file (contains NUL bytes)",
        "broken.txt": "broken symbolic link",
    }
    assert report.not_read == {".xlsx": [str(seeds_copy / "ignored.xlsx")]}
    assert len(report.added) == 5


def test_rebuild_starts_afresh(tmp_path: Path, seeds_copy: Path) -> None:
    index = frsearch.Index(tmp_path / "idx")
    index.add("extra", "Extra", "un ornithorynque à part")
    index.index_paths([str(seeds_copy)])
    report = index.index_paths([str(seeds_copy)], rebuild=True)
    assert len(report.added) == 5 and len(index) == 5
    assert not index.search("ornithorynque").hits


def test_the_index_directory_itself_is_never_indexed(tmp_path: Path, seeds_copy: Path) -> None:
    index = frsearch.Index(seeds_copy / ".frsearch")
    index.index_paths([str(seeds_copy)])
    (seeds_copy / "idx-inside").mkdir()
    assert len(index.index_paths([str(seeds_copy)]).added) == 0


def test_open_missing_index_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(frsearch.IndexNotFoundError):
        frsearch.Index.open(tmp_path / "none")


def test_index_of_another_format_must_be_rebuilt(tmp_path: Path, seeds_copy: Path) -> None:
    where = tmp_path / "idx"
    frsearch.Index(where).index_paths([str(seeds_copy)])
    meta = json.loads((where / META_FILE).read_text())
    meta["format"] = FORMAT_VERSION + 1
    (where / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(frsearch.IndexFormatError, match="format"):
        frsearch.Index(where)
    rebuilt = frsearch.Index.for_rebuild(where)
    assert len(rebuilt.index_paths([str(seeds_copy)], rebuild=True).added) == 5
    assert rebuilt.search("Singapour").hits and rebuilt.options == frsearch.SearchOptions()
    assert frsearch.Index.open(where).search("Singapour").hits


def test_stats(seed_index: frsearch.Index) -> None:
    stats = seed_index.stats()
    assert stats["documents"] == 5
    assert stats["distinct_terms"] > 500
    assert stats["size_bytes"] > 0 and stats["format_version"] == FORMAT_VERSION


def test_options_survive_commits(tmp_path: Path) -> None:
    options = frsearch.SearchOptions(k1=0.9, feedback_docs=0)
    with frsearch.Index(tmp_path / "ix", options=options) as index:
        index.add("a", "Xiaomi", "Xiaomi sur liste noire.")
        assert index.options is options and index.engine().options is options
        index.add("b", "Tesla", "Des véhicules électriques.")  # a commit: a new engine
        assert index.engine().options is options
        changed = frsearch.SearchOptions(coordination=0.0)
        index.engine().options = changed  # set on the engine, as before: kept too
        index.delete("b")
        assert index.options is changed and index.engine().options is changed
        index.options = options
        assert index.engine().options is options
        first = index.search("xiaomi")[0].score
    # The options change the scores: the engine uses them.
    with frsearch.Index(tmp_path / "ix") as index:
        assert index.search("xiaomi")[0].score != first
