"""Concurrency: two `frsearch index` runs on one index, and queries while a run writes.

A second run waits for the first (``--wait``, 30 s by default, saying so on
stderr) or, with ``--wait 0``, stops at once with a clear message and exit
status 2. Queries made while a run writes answer from the last commit.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import frsearch
from frsearch.index import INDEX_NAME
from tests.test_reliability_support import (
    SENTINEL_WORD,
    TALLY,
    assert_no_traceback,
    cli_command,
    cli_env,
    make_corpus,
    run_cli,
    write_sentinel,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("concurrency")
    old, new = root / "old", root / "new"
    old_files = make_corpus(old, 20, seed=11, prefix="old") + [write_sentinel(old)]
    # Big enough that a run still writes when a second one, started as it begins writing, gets going.
    new_files = make_corpus(new, 300, seed=12, prefix="new")
    base = root / "base-index"
    with frsearch.Index(base) as index:
        index.index_paths([str(old)])
    return SimpleNamespace(
        root=root, old=old, new=new, base=base,
        old_ids={str(p.resolve()) for p in old_files},
        new_ids={str(p.resolve()) for p in old_files + new_files},
    )


def fresh_copy(c: SimpleNamespace, name: str) -> Path:
    where = c.root / name
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(c.base, where)
    return where


def start_run(where: Path, c: SimpleNamespace, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cli_command("index", *extra, "--index", str(where), str(c.old), str(c.new)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(),
    )


def wait_until_writing(where: Path, process: subprocess.Popen[bytes]) -> None:
    """Until the run holds the write lock: Whoosh makes MAIN.tmp right after taking it."""
    deadline = time.monotonic() + 30
    while not (where / f"{INDEX_NAME}.tmp").exists():
        assert process.poll() is None, "the run ended before it was seen writing"
        assert time.monotonic() < deadline
        time.sleep(0.003)


def ids_of(where: Path) -> set[str]:
    with frsearch.Index.open(where) as index:
        ids = set(index.ids())
        assert len(index) == len(ids)
        return ids


def test_second_run_waits_for_the_first(corpus: SimpleNamespace) -> None:
    where = fresh_copy(corpus, "wait")
    first = start_run(where, corpus)
    wait_until_writing(where, first)
    second = run_cli("index", "--index", str(where), str(corpus.old), str(corpus.new))
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert second.returncode == 0, second.stderr
    assert_no_traceback(err, second.stderr)
    assert b"another run is writing to the index; waiting up to 30 s" in second.stderr
    # The second run read the index the first one committed: nothing left to do.
    assert second.stdout.startswith(f"0 added, 0 updated, 0 removed, {len(corpus.new_ids)} unchanged".encode())
    assert ids_of(where) == corpus.new_ids


def test_wait_0_stops_at_once_with_a_clear_message(corpus: SimpleNamespace) -> None:
    where = fresh_copy(corpus, "nowait")
    first = start_run(where, corpus)
    wait_until_writing(where, first)
    started = time.monotonic()
    second = run_cli("index", "--wait", "0", "--index", str(where), str(corpus.old))
    assert time.monotonic() - started < 10
    first.communicate(timeout=60)
    assert first.returncode == 0
    assert second.returncode == 2
    lines = second.stderr.decode().splitlines()
    assert lines[0] == f"frsearch: error: another process is writing to the index in {where}"
    assert lines[1:] == ["  Wait for the other `frsearch index` run to finish, or pass a longer --wait."]
    assert second.stdout == b""
    assert ids_of(where) == corpus.new_ids


def test_wait_timeout_says_how_long_it_waited(corpus: SimpleNamespace) -> None:
    where = fresh_copy(corpus, "timeout")
    first = start_run(where, corpus)
    wait_until_writing(where, first)
    second = run_cli("index", "--wait", "0.2", "--index", str(where), str(corpus.old))
    still_running = first.poll() is None
    first.communicate(timeout=60)
    if still_running:  # on a very fast machine the first run may be done already
        assert second.returncode == 2
        assert b"waiting up to 0.2 s" in second.stderr and b"(waited 0.2 s)" in second.stderr
    assert second.returncode in (0, 2)
    assert_no_traceback(second.stderr)
    assert ids_of(where) == corpus.new_ids


def test_two_runs_that_create_the_same_index_at_once(tmp_path: Path) -> None:
    """Both start on a folder with no index: only one creates it, the other waits."""
    docs = tmp_path / "docs"
    files = make_corpus(docs, 30, seed=13, prefix="d", words=(100, 200)) + [write_sentinel(docs)]
    expected = {str(p.resolve()) for p in files}
    for attempt in range(3):
        where = tmp_path / f"idx{attempt}"
        runs = [
            subprocess.Popen(cli_command("index", "--index", str(where), str(docs)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=60) for run in runs]
        for run, (out, err) in zip(runs, outputs):
            assert run.returncode == 0, err
            assert_no_traceback(err)
        added = sorted(int(out.split(b" ")[0]) for out, _err in outputs)
        assert added == [0, len(files)], outputs
        assert ids_of(where) == expected


def test_queries_answer_from_the_last_commit_while_a_run_writes(corpus: SimpleNamespace) -> None:
    where = fresh_copy(corpus, "reading")
    counts = {len(corpus.old_ids), len(corpus.new_ids)}
    long_lived = frsearch.Index.open(where)  # a library user's index object, kept open
    assert long_lived.search(SENTINEL_WORD).total == 1
    cli_answers: list[subprocess.CompletedProcess[bytes]] = []
    writer = start_run(where, corpus)
    stop = threading.Event()

    def cli_queries() -> None:
        while not stop.is_set():
            cli_answers.append(run_cli("query", "--index", str(where), SENTINEL_WORD))

    thread = threading.Thread(target=cli_queries)
    thread.start()
    seen: dict[int, int] = {}
    queries = 0
    try:
        while writer.poll() is None:
            with frsearch.Index.open(where) as index:  # what each `frsearch query` does
                results = index.search(SENTINEL_WORD)
                assert [Path(h.path).name for h in results] == ["sentinel.txt"]
                assert len(index) in counts
            results = long_lived.search(SENTINEL_WORD)
            assert [Path(h.path).name for h in results] == ["sentinel.txt"]
            n = len(long_lived)
            assert n in counts
            seen[n] = seen.get(n, 0) + 1
            queries += 2
            time.sleep(0.01)  # leave the writer some of the two CPUs
    finally:
        stop.set()
        thread.join()
    out, err = writer.communicate()
    assert writer.returncode == 0, err
    for answer in cli_answers:
        assert answer.returncode == 0, answer.stderr
        assert_no_traceback(answer.stderr)
        assert b"sentinel.txt" in answer.stdout
    assert len(long_lived) == len(corpus.new_ids)
    assert long_lived.get(min(corpus.new_ids - corpus.old_ids)) is not None  # it sees the new commit
    long_lived.close()
    assert queries >= 20, queries
    TALLY["queries answered while a run was writing"] = TALLY.get("queries answered while a run was writing", 0) + queries + len(cli_answers)


def test_a_long_lived_index_forgets_documents_deleted_by_later_commits(tmp_path: Path) -> None:
    """Whoosh's Searcher.refresh() keeps the readers of segments it already had, with their
    old deletions: an Index object kept open must still drop what later commits delete,
    its own commits and those of another process."""
    docs = tmp_path / "docs"
    files = make_corpus(docs, 3, seed=14, prefix="d", words=(40, 80))
    where = tmp_path / "idx"
    index = frsearch.Index(where)
    index.index_paths([str(docs)])
    index.add("note", "Une note", "Un ornithorynque dans une note.")
    assert index.search(SENTINEL_WORD).total == 1 and len(set(index.ids())) == 4
    assert index.delete("note")  # a commit with deletions only
    assert index.search(SENTINEL_WORD).total == 0
    assert "note" not in set(index.ids()) and index.get("note") is None
    gone = str(files[0].resolve())
    files[0].unlink()
    done = run_cli("index", "--index", str(where), str(docs))  # another process removes it
    assert done.returncode == 0 and b"1 removed" in done.stdout
    assert gone not in set(index.ids()) and index.get(gone) is None
    assert gone not in {hit.id for hit in index.search("gouvernement OR réforme OR le OR grève", limit=10)}
    assert len(index) == 2
    index.close()


def _read_while_committing(writer_index: frsearch.Index, read: Any, readers: int, commits: int) -> None:
    """Run ``read`` in a loop in ``readers`` threads while ``writer_index`` makes ``commits``
    commits; fails with the first error a reader met."""
    errors: list[BaseException] = []
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            try:
                read()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    threads = [threading.Thread(target=loop) for _ in range(readers)]
    for thread in threads:
        thread.start()
    try:
        for i in range(commits):
            writer_index.add(f"new{i}", "Montagne", "Encore la montagne et la mer.")
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors[0]


def test_threads_searching_one_index_while_another_commits(tmp_path: Path) -> None:
    """Threads share one Index while commits arrive: a thread that sees a new commit replaces
    the searcher, never while another still reads it (that was a false 'damaged' error)."""
    where = tmp_path / "idx"
    with frsearch.Index(where) as writer_index:
        writer_index.add_documents(
            {"id": f"d{i}", "title": f"Montagne {i}", "body": "La montagne et la mer. " * 40} for i in range(200)
        )
        with frsearch.Index.open(where) as shared:

            def search() -> None:
                assert shared.search("montagne mer", limit=20).total >= 200
                shared.get("d1")

            _read_while_committing(writer_index, search, readers=3, commits=30)


def test_opening_the_index_while_another_writer_commits(tmp_path: Path) -> None:
    """A table of contents or segment replaced by a commit between listing and reading it is
    not damage: opening tries the new latest commit."""
    where = tmp_path / "idx"
    with frsearch.Index(where) as writer_index:
        writer_index.add_documents({"id": f"d{i}", "title": "Montagne", "body": "La montagne."} for i in range(50))

        def open_and_search() -> None:
            with frsearch.Index.open(where) as index:
                assert index.search("montagne", limit=5).total >= 50

        _read_while_committing(writer_index, open_and_search, readers=1, commits=80)
