"""Crash safety: `frsearch index` killed with SIGKILL at any moment leaves the last commit.

The CLI runs as a real process on a corpus that takes about a second to index
and is killed at delays spread over the whole run (walking the folders, adding
documents, writing the segment, writing the table of contents). After each
kill the index must open, answer, and hold exactly the documents of the index
before the run or exactly those of a finished run, never a mix; the next run,
started on whatever the killed one left behind, must finish the job.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from whoosh.filedb.filestore import FileStorage

import frsearch
from frsearch.index import FORMAT_VERSION, INDEX_NAME, META_FILE
from tests.test_reliability_support import (
    SENTINEL_WORD,
    TALLY,
    cli_command,
    cli_env,
    make_corpus,
    run_cli,
    write_sentinel,
)

OLD_FILES = 30
NEW_FILES = 150
KILL_POINTS = 23  # at least 20 runs must really be killed (some may finish before their delay)
MIN_KILLS = 20
LOCK_FILE = f"{INDEX_NAME}_WRITELOCK"
_CLEAN_INDEX_FILE = re.compile(rf"{LOCK_FILE}|{re.escape(META_FILE)}|_{INDEX_NAME}_\d+\.toc")


def leftovers_in(where: Path) -> list[str]:
    """Files in the index folder that belong neither to the index nor to a live segment."""
    from whoosh.filedb.filestore import FileStorage

    live = {seg.segment_id() for seg in FileStorage(str(where)).open_index(INDEX_NAME)._segments()}
    return sorted(
        n for n in os.listdir(where)
        if not _CLEAN_INDEX_FILE.fullmatch(n) and n.split(".", 1)[0] not in live
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("crash")
    old, new = root / "old", root / "new"
    old_files = make_corpus(old, OLD_FILES, seed=1, prefix="old") + [write_sentinel(old)]
    new_files = make_corpus(new, NEW_FILES, seed=2, prefix="new")
    base = root / "base-index"
    with frsearch.Index(base) as index:
        assert len(index.index_paths([str(old)]).added) == len(old_files)
    return SimpleNamespace(
        root=root,
        old=old,
        new=new,
        base=base,
        old_ids={str(p.resolve()) for p in old_files},
        new_ids={str(p.resolve()) for p in old_files + new_files},
    )


def committed_state(where: Path, c: SimpleNamespace) -> str:
    """Open the index as a query would and say which commit it holds: "old" or "new"."""
    with frsearch.Index.open(where) as index:
        ids = set(index.ids())
        assert ids in (c.old_ids, c.new_ids), f"partial index: {len(ids)} documents"
        assert len(index) == len(ids)
        hits = index.search(SENTINEL_WORD)
        assert [Path(h.path).name for h in hits] == ["sentinel.txt"]
    # The killed process held the write lock; flock locks die with their process.
    lock = FileStorage(str(where)).lock(LOCK_FILE)
    assert lock.acquire(), "a stale lock blocks the next run"
    lock.release()
    return "new" if ids == c.new_ids else "old"


def kill_phase(where: Path, before: set[str]) -> str:
    """Where the run was when it died, from the files it had written."""
    created = set(os.listdir(where)) - before
    if any(re.fullmatch(rf"_{INDEX_NAME}_\d+\.toc", n) for n in created):
        return "cleanup after the commit"
    if any(n.endswith((".col", ".seg")) or ".toc." in n for n in created):
        return "commit (segment or table of contents)"
    if created:
        return "indexing (documents being added)"
    return "start (walking the folders)"


def complete_run(where: Path, c: SimpleNamespace) -> None:
    """The next run, with --wait 0: not blocked by any lock and it finishes the job."""
    done = run_cli("index", "--wait", "0", "--index", str(where), str(c.old), str(c.new))
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stderr
    assert committed_state(where, c) == "new"
    # Leftovers of killed runs (partial segments, temporary tables of contents,
    # the writer's temporary folder) are gone once a run has committed.
    leftovers = leftovers_in(where)
    assert not leftovers, leftovers
    assert len([n for n in os.listdir(where) if n.endswith(".toc")]) == 1


def restore(where: Path, c: SimpleNamespace) -> None:
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(c.base, where)


@pytest.mark.slow
def test_sigkill_at_any_point_leaves_the_last_commit(corpus: SimpleNamespace) -> None:
    c = corpus
    where = c.root / "index"
    restore(where, c)
    # A run that is not killed: how long a run takes, and what it leaves.
    started = time.monotonic()
    complete_run(where, c)
    duration = time.monotonic() - started

    rnd = random.Random(8128)
    delays = [duration * (0.12 + 0.88 * i / (KILL_POINTS - 1)) * rnd.uniform(0.95, 1.05) for i in range(KILL_POINTS)]
    phases: dict[str, int] = {}
    kills = attempts = 0
    restore(where, c)
    while delays:
        delay = delays.pop(0)
        attempts += 1
        before = set(os.listdir(where))
        process = subprocess.Popen(
            cli_command("index", "--index", str(where), str(c.old), str(c.new)),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env(),
        )
        time.sleep(delay)
        killed = process.poll() is None
        if killed:
            process.send_signal(signal.SIGKILL)
        process.wait()
        state = committed_state(where, c)
        if killed:
            kills += 1
            phase = kill_phase(where, before)
            phases[phase] = phases.get(phase, 0) + 1
        if kills < MIN_KILLS and not delays and attempts < 3 * KILL_POINTS:
            delays.append(duration * rnd.uniform(0.2, 0.9))  # the machine was faster than measured
        if state == "new":
            restore(where, c)
        elif attempts % 8 == 0:
            # The next run on what the killed run left behind finishes the job.
            complete_run(where, c)
            restore(where, c)
        # otherwise the next kill point runs on the debris of this one
    complete_run(where, c)
    assert kills >= MIN_KILLS, (kills, phases)
    assert phases.get("indexing (documents being added)", 0) >= 1, phases
    assert phases.get("commit (segment or table of contents)", 0) >= 1, phases
    TALLY["kill points survived"] = kills
    TALLY.update({f"killed during {phase}": n for phase, n in phases.items()})
    print(f"\n{kills} kill points survived over a {duration:.2f} s run: {phases}")


def test_each_commit_writes_a_new_table_of_contents_and_renames_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoosh never rewrites a table of contents in place: it writes `_MAIN_N.toc.<time>`
    and renames it to `_MAIN_N.toc` (an atomic rename), so a reader sees the old or the
    new one, whole. Segment files are new files too, never changed after they are written."""
    created: list[str] = []
    renamed: list[tuple[str, str]] = []
    original_create, original_rename = FileStorage.create_file, FileStorage.rename_file

    def create_file(self: FileStorage, name: str, *args: object, **kwargs: object) -> object:
        created.append(name)
        return original_create(self, name, *args, **kwargs)

    def rename_file(self: FileStorage, frm: str, to: str, safe: bool = False) -> None:
        renamed.append((frm, to))
        return original_rename(self, frm, to, safe=safe)

    docs = tmp_path / "docs"
    make_corpus(docs, 5, seed=3, prefix="d", words=(30, 60))
    where = tmp_path / "idx"
    frsearch.Index(where).index_paths([str(docs)])
    monkeypatch.setattr(FileStorage, "create_file", create_file)
    monkeypatch.setattr(FileStorage, "rename_file", rename_file)
    make_corpus(docs, 8, seed=4, prefix="e", words=(30, 60))
    index = frsearch.Index(where)
    index.index_paths([str(docs)])
    index.add("x", "Un ajout", "Encore un document")
    tocs = [n for n in created if ".toc" in n]
    assert tocs and all(re.fullmatch(rf"_{INDEX_NAME}_\d+\.toc\.[0-9.]+", n) for n in tocs), tocs
    assert [frm for frm, _to in renamed] == tocs
    assert all(re.fullmatch(rf"_{INDEX_NAME}_\d+\.toc", to) for _frm, to in renamed)
    assert len(frsearch.Index.open(where)) == 14


def test_whoosh_lock_is_an_fcntl_lock_that_dies_with_its_process(tmp_path: Path) -> None:
    """The write lock is flock() on MAIN_WRITELOCK: the file stays, the lock does not."""
    where = tmp_path / "idx"
    frsearch.Index(where)
    lock = FileStorage(str(where)).lock(LOCK_FILE)
    assert type(lock).__name__ == "FcntlLock"
    holder = subprocess.Popen(
        [
            os.sys.executable, "-c",
            "import sys, time; from whoosh.filedb.filestore import FileStorage; "
            f"l = FileStorage(sys.argv[1]).lock({LOCK_FILE!r}); assert l.acquire(); "
            "print('locked', flush=True); time.sleep(60)",
            str(where),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        assert not lock.acquire()
        busy = run_cli("index", "--wait", "0", "--index", str(where), str(where))
        assert busy.returncode == 2 and b"another process is writing" in busy.stderr
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    assert (where / LOCK_FILE).exists()  # the stale file is left behind...
    assert lock.acquire()  # ...and does not block anyone
    lock.release()


def test_debris_of_killed_runs_does_not_block_the_next_run(tmp_path: Path) -> None:
    """What a run killed at the worst moments leaves behind, built on purpose:
    frsearch.json without a table of contents (killed while creating the index),
    a half-written table of contents, a partial segment, the writer's temporary folder."""
    docs = tmp_path / "docs"
    make_corpus(docs, 3, seed=5, prefix="d", words=(30, 60))
    write_sentinel(docs)
    # Killed between frsearch.json and the first table of contents.
    where = tmp_path / "idx"
    where.mkdir()
    (where / META_FILE).write_text(f'{{"format": {FORMAT_VERSION}, "frsearch": "1.0.0", "created": 0}}')
    with pytest.raises(frsearch.IndexNotFoundError):
        frsearch.Index.open(where)
    assert run_cli("index", "--index", str(where), str(docs)).returncode == 0
    assert len(frsearch.Index.open(where)) == 4
    # Killed while writing a segment and the next table of contents.
    toc = next(n for n in os.listdir(where) if n.endswith(".toc"))
    gen = int(re.findall(r"\d+", toc)[0])
    (where / f"_{INDEX_NAME}_{gen + 1}.toc.{time.time()}").write_bytes(b"\x00\x01partial")
    (where / f"{INDEX_NAME}_deadbeef00000000.seg").write_bytes(b"partial segment")
    (where / f"{INDEX_NAME}_deadbeef00000000.fsp").write_bytes(b"partial postings")
    (where / f"{INDEX_NAME}.tmp").mkdir()
    (where / f"{META_FILE}.tmp").write_text('{"form')
    with frsearch.Index.open(where) as index:
        assert [Path(h.path).name for h in index.search(SENTINEL_WORD)] == ["sentinel.txt"]
    (docs / "more.txt").write_text("Encore\n\nUn texte de plus sur le climat.", encoding="utf-8")
    done = run_cli("index", "--wait", "0", "--index", str(where), str(docs))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"1 added, 0 updated, 0 removed, 4 unchanged")
    leftovers = leftovers_in(where)
    assert not leftovers, leftovers
