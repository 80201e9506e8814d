"""`index --watch`: real file events in a temporary folder, bounded waits.

A saved, added, renamed or deleted file is searchable (or gone) within a few
seconds; a burst of a thousand files is committed in a few batches, not one
commit per file; stopping (an event, or Ctrl-C for the CLI) is clean.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from frsearch import FrsearchError, Index, IndexLockedError, IndexNotFoundError, SyncReport
from frsearch.watch import watch_paths

#: Longest wait for a change to show in the index (the watcher hands a batch over in 1.6 s at most).
DEADLINE = 15.0


def wait_for(check: Callable[[], bool], deadline: float = DEADLINE) -> float:
    """Poll ``check`` until it is true; return the seconds it took, fail after ``deadline``."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        if check():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not true after {deadline} s")


def found(index_dir: Path, query: str) -> set[str]:
    try:
        index = Index.open(index_dir)
    except IndexNotFoundError:  # the first run is still creating it
        return set()
    with index:
        return {Path(hit.path).name for hit in index.search(query, limit=100)}


class Watcher:
    """watch_paths in a thread, with its syncs recorded."""

    def __init__(self, index_dir: Path, folder: Path, wait: float = 30.0) -> None:
        self.index = Index(index_dir)
        self.index.index_paths([str(folder)])
        self.stop = threading.Event()
        self.reports: list[SyncReport] = []
        self.errors: list[FrsearchError] = []
        self.wait = wait
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(folder,), daemon=True)
        self.thread.start()
        time.sleep(1.0)  # let the watcher start listening to the folder

    def _run(self, folder: Path) -> None:
        try:
            watch_paths(self.index, [str(folder)], stop_event=self.stop, on_sync=self.reports.append,
                        on_error=self.errors.append, wait=self.wait)
        except BaseException as exc:  # reported by close()
            self.error = exc

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.index.close()
        assert not self.thread.is_alive(), "the watcher did not stop"
        assert self.error is None, self.error


@pytest.fixture
def watched(tmp_path: Path) -> Any:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ancien.txt").write_text("Un ancien texte sur les dauphins.", encoding="utf-8")
    watcher = Watcher(tmp_path / "ix", folder)
    yield folder, tmp_path / "ix", watcher
    watcher.close()


def test_added_saved_renamed_deleted_files_follow_the_disk(watched: Any) -> None:
    folder, index_dir, _watcher = watched
    assert found(index_dir, "dauphins") == {"ancien.txt"}

    (folder / "nouveau.md").write_text("# Nouveau\n\nLes baleines bleues.", encoding="utf-8")
    wait_for(lambda: found(index_dir, "baleines") == {"nouveau.md"})

    (folder / "nouveau.md").write_text("# Nouveau\n\nLes orques noires.", encoding="utf-8")
    wait_for(lambda: found(index_dir, "orques") == {"nouveau.md"} and not found(index_dir, "baleines"))

    (folder / "nouveau.md").rename(folder / "renomme.md")
    wait_for(lambda: found(index_dir, "orques") == {"renomme.md"})

    (folder / "ancien.txt").unlink()
    wait_for(lambda: not found(index_dir, "dauphins"))
    assert (folder / "renomme.md").exists()

    sub = folder / "sous-dossier"
    sub.mkdir()
    (sub / "profond.txt").write_text("Les narvals arctiques.", encoding="utf-8")
    wait_for(lambda: found(index_dir, "narvals") == {"profond.txt"})


def test_a_burst_of_changes_is_committed_in_batches(watched: Any) -> None:
    folder, index_dir, watcher = watched
    burst = folder / "archive"
    burst.mkdir()
    for i in range(1000):
        (burst / f"f{i:04d}.txt").write_text(f"Fichier numéro {i} sur les méduses.", encoding="utf-8")
    wait_for(lambda: len(found(index_dir, "méduses")) == 100)  # limit=100
    with Index.open(index_dir) as index:
        wait_for(lambda: index.search("méduses").total == 1000)
    syncs = len(watcher.reports)
    assert 1 <= syncs <= 20, syncs  # batches, not a thousand commits
    assert sum(len(r.added) for r in watcher.reports) == 1000


def test_changes_to_hidden_and_unread_files_and_to_the_index_itself_do_not_sync(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Un texte.", encoding="utf-8")
    watcher = Watcher(folder / ".frsearch", folder)  # the index inside the watched folder
    try:
        (folder / ".cache").write_text("caché", encoding="utf-8")
        (folder / "image.png").write_bytes(b"\x89PNG")
        time.sleep(2.5)
        assert watcher.reports == []
        (folder / "b.txt").write_text("Les calmars géants.", encoding="utf-8")
        wait_for(lambda: len(watcher.reports) >= 1)
        time.sleep(2.5)  # the commit writes in .frsearch: that must not start another sync
        assert len(watcher.reports) == 1
        assert found(folder / ".frsearch", "calmars") == {"b.txt"}
    finally:
        watcher.close()


def test_a_sync_refused_by_a_lock_is_tried_again_and_nothing_is_forgotten(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Un texte.", encoding="utf-8")
    watcher = Watcher(tmp_path / "ix", folder, wait=0.2)
    try:
        other = Index(tmp_path / "ix")
        writer = other._writer()  # another run holds the write lock
        try:
            (folder / "b.txt").write_text("Les homards bleus.", encoding="utf-8")
            wait_for(lambda: len(watcher.errors) >= 1)
            assert isinstance(watcher.errors[0], IndexLockedError)
        finally:
            writer.cancel()
            other.close()
        wait_for(lambda: found(tmp_path / "ix", "homards") == {"b.txt"})
    finally:
        watcher.close()


def test_cli_watch_indexes_then_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Les pieuvres savantes.", encoding="utf-8")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "frsearch", "index", "--watch", "--index", str(tmp_path / "ix"), str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )
    try:
        wait_for(lambda: (tmp_path / "ix").exists() and bool(found(tmp_path / "ix", "pieuvres")))
        time.sleep(1.0)  # the watcher starts after the first sync
        (folder / "b.txt").write_text("Les seiches rapides.", encoding="utf-8")
        wait_for(lambda: found(tmp_path / "ix", "seiches") == {"b.txt"})
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "Stopped watching" in err
    assert out.splitlines()[0].startswith("1 added")
    assert any(line.startswith("1 added") for line in out.splitlines()[1:])
