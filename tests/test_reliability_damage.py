"""A damaged index: one error line with the rebuild hint, exit 2, never a traceback.

Each kind of damage is made on a copy of a small index: truncated, deleted or
garbled segment files, a garbled, truncated or missing table of contents
(``_MAIN_N.toc``), a garbled frsearch.json, an index of another format. Some
damage only shows when a query reads the damaged bytes, so every command is
tried. ``frsearch index --rebuild`` always recovers.
"""

from __future__ import annotations

import gc
import json
import os
import random
import shutil
import warnings
from pathlib import Path
from typing import Callable, Iterator

import pytest
from click.testing import CliRunner

import frsearch
from frsearch.cli import cli
from frsearch.index import FORMAT_VERSION, META_FILE
from tests.test_reliability_support import TALLY, assert_no_traceback, run_cli

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
REBUILD_HINT = "  Rebuild it with `frsearch index --rebuild PATH`."


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("damage") / "index"
    with frsearch.Index(where) as index:
        index.index_paths([str(SEEDS)])
        index.add("extra", "Un document de plus", "Des kangourous en Australie.")  # a second segment
    return where


# On some damaged bytes Whoosh abandons half-built segment readers while frsearch reports
# the damage (in one line, as these tests check); their files are closed when the garbage
# collector finds them, which may be in the middle of a test. That ResourceWarning is about
# Whoosh's clean-up on garbage, not about what users see, so it is not an error here.
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(autouse=True)
def collect_abandoned_readers() -> Iterator[None]:
    """On some damaged bytes Whoosh abandons half-built segment readers (frsearch still reports
    the damage in one line); their files are closed when the garbage collector finds them.
    Collect them after each test here, rather than let the ResourceWarning surface in
    whichever test happens to run next."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _only(where: Path, suffix: str) -> Path:
    files = sorted(where.glob(f"*{suffix}"))
    assert files, f"no {suffix} file in {where}"
    return max(files, key=lambda p: p.stat().st_size)


def truncate(suffix: str, keep: float | int) -> Callable[[Path], None]:
    def damage(where: Path) -> None:
        path = _only(where, suffix)
        size = path.stat().st_size
        os.truncate(path, int(size * keep) if isinstance(keep, float) else keep)
    return damage


def delete(suffix: str) -> Callable[[Path], None]:
    def damage(where: Path) -> None:
        _only(where, suffix).unlink()
    return damage


def garble(suffix: str, start: float = 0.0, length: int | None = None) -> Callable[[Path], None]:
    def damage(where: Path) -> None:
        path = _only(where, suffix)
        data = bytearray(path.read_bytes())
        lo = int(len(data) * start)
        hi = len(data) if length is None else min(len(data), lo + length)
        data[lo:hi] = random.Random(lo).randbytes(hi - lo)
        path.write_bytes(bytes(data))
    return damage


def write_meta(text: str) -> Callable[[Path], None]:
    def damage(where: Path) -> None:
        (where / META_FILE).write_text(text, encoding="utf-8")
    return damage


DAMAGE = {
    # A segment is a set of files: term dictionary (.trm), columns (.col) and postings, which
    # frsearch's codec writes as posting arrays (.fsp).
    "posting arrays emptied": truncate(".fsp", 0),
    "term dictionary truncated to 100 bytes": truncate(".trm", 100),
    "stored fields truncated to nothing": truncate("._stored.col", 0),
    "posting arrays of another format": garble(".fsp", 0.0, 4),
    "posting arrays truncated to half": truncate(".fsp", 0.5),
    "posting arrays deleted": delete(".fsp"),
    "term dictionary deleted": delete(".trm"),
    "term dictionary end garbled": garble(".trm", 0.97),
    "table of contents garbled": garble(".toc"),
    "table of contents truncated": truncate(".toc", 0.5),
    "table of contents emptied": truncate(".toc", 0),
    "table of contents deleted": delete(".toc"),
    "frsearch.json garbled": write_meta("{\x00 not json"),
    "frsearch.json not an object": write_meta("[1, 2, 3]"),
    "frsearch.json emptied": write_meta(""),
    "frsearch.json deleted": delete(META_FILE),
    "format of an older frsearch": write_meta(json.dumps({"format": FORMAT_VERSION - 1, "frsearch": "0.9"})),
    "format missing": write_meta(json.dumps({"frsearch": "0.1"})),
    "format as text": write_meta(json.dumps({"format": str(FORMAT_VERSION)})),
}


def damaged_copy(pristine: Path, tmp_path: Path, damage: Callable[[Path], None]) -> Path:
    where = tmp_path / "index"
    shutil.copytree(pristine, where)
    damage(where)
    return where


def assert_rebuild_error(result: object) -> None:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == 2, (result.exit_code, stderr)  # type: ignore[attr-defined]
    lines = stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("frsearch: error: "), stderr
    assert lines[1] == REBUILD_HINT, stderr
    assert_no_traceback(stderr)
    assert result.stdout == ""  # type: ignore[attr-defined]


# Damage that only queries read (``stats`` and an incremental ``index`` do not read posting lists).
QUERY_DAMAGE = {
    "posting arrays garbled": garble(".fsp"),
    "posting arrays garbled near the start": garble(".fsp", 0.0, 4096),
}


@pytest.mark.parametrize("kind", list(DAMAGE) + list(QUERY_DAMAGE))
def test_damage_gives_one_error_line_with_the_rebuild_hint(
    kind: str, pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = damaged_copy(pristine, tmp_path, {**DAMAGE, **QUERY_DAMAGE}[kind])
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str) -> object:
        return runner.invoke(cli, [*args, "--index", str(where)] if args[0] != "index" else
                             [args[0], "--index", str(where), *args[1:]], catch_exceptions=False)

    for words in ("Singapour", "title:Xiaomi OR smart* OR kangourous"):
        assert_rebuild_error(run("query", words))
    if kind in DAMAGE:
        assert_rebuild_error(run("stats"))
        assert_rebuild_error(run("index", str(SEEDS)))
    # The library raises IndexFormatError, when it opens or when it first reads the damage.
    with pytest.raises(frsearch.IndexFormatError):
        with frsearch.Index.open(where) as index:
            index.search("Singapour")
            index.search("kangourous")
            index.stats()
    rebuilt = run("index", "--rebuild", str(SEEDS))
    assert rebuilt.exit_code == 0, rebuilt.stderr  # type: ignore[attr-defined]
    assert rebuilt.stdout.startswith("5 added")  # type: ignore[attr-defined]
    assert run("query", "Singapour").exit_code == 0  # type: ignore[attr-defined]
    assert json.loads(run("stats", "--json").stdout)["documents"] == 5  # type: ignore[attr-defined]
    TALLY["damaged indexes detected and rebuilt"] = TALLY.get("damaged indexes detected and rebuilt", 0) + 1


def test_damage_message_in_a_real_process(pristine: Path, tmp_path: Path) -> None:
    where = damaged_copy(pristine, tmp_path, DAMAGE["posting arrays truncated to half"])
    done = run_cli("query", "--index", str(where), "Singapour")
    assert done.returncode == 2
    assert done.stderr.decode().splitlines()[1] == REBUILD_HINT
    assert_no_traceback(done.stderr)
    done = run_cli("index", "--rebuild", "--index", str(where), str(SEEDS))
    assert done.returncode == 0 and done.stdout.startswith(b"5 added")


@pytest.mark.parametrize("seed", range(24))
def test_random_corruption_never_escapes_as_another_error(seed: int, pristine: Path, tmp_path: Path) -> None:
    """Bytes of a segment file overwritten at random places: the damage may go unseen (it fell
    in text that is still valid), but what is seen is an IndexFormatError, nothing else."""
    rnd = random.Random(seed)

    def damage(where: Path) -> None:
        path = _only(where, rnd.choice((".fsp", ".fsp", ".trm", "._stored.col")))
        data = bytearray(path.read_bytes())
        for _ in range(rnd.choice((1, 4, 32))):
            at = rnd.randrange(len(data))
            span = rnd.choice((1, 8, 64))
            data[at : at + span] = rnd.randbytes(len(data[at : at + span]))
        path.write_bytes(bytes(data))

    where = damaged_copy(pristine, tmp_path, damage)
    outcomes = set()
    for words in ("Singapour", "kangourous", "etats unis", "Xiaomi OR Tesla", "smart*", "xiaomy~", '"lei jun"'):
        try:
            with frsearch.Index.open(where) as index:
                results = index.search(words)
                for hit in results:
                    assert isinstance(hit.title, str)
                index.stats()
            outcomes.add("unseen")
        except frsearch.IndexFormatError as exc:
            assert exc.hint and "--rebuild" in exc.hint
            outcomes.add("detected")
    result = CliRunner().invoke(cli, ["query", "--index", str(where), "Singapour"], catch_exceptions=False)
    assert result.exit_code in (0, 1, 2)
    assert_no_traceback(result.stderr)
    if result.exit_code == 2:
        assert result.stderr.splitlines()[1] == REBUILD_HINT
    rebuilt = frsearch.Index.for_rebuild(where)
    assert len(rebuilt.index_paths([str(SEEDS)], rebuild=True).added) == 5
    assert frsearch.Index.open(where).search("Singapour").hits
    TALLY["random corruptions tried"] = TALLY.get("random corruptions tried", 0) + 1


def test_only_damage_becomes_index_format_error(pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """QueryError and the other frsearch errors pass unchanged, a bug in frsearch's own code
    is not blamed on the index, and neither is a permission problem."""
    import errno

    from frsearch.search import Engine

    where = damaged_copy(pristine, tmp_path, lambda where: None)
    with frsearch.Index.open(where) as index:
        with pytest.raises(frsearch.QueryError):
            index.search("le la les")

        def buggy(self: Engine, *args: object, **kwargs: object) -> None:
            raise TypeError("a bug in frsearch")

        monkeypatch.setattr(Engine, "search", buggy)
        with pytest.raises(TypeError):
            index.search("Singapour")

        def refused(self: Engine, *args: object, **kwargs: object) -> None:
            raise PermissionError(errno.EACCES, "Permission denied", str(where / "x.seg"))

        monkeypatch.setattr(Engine, "search", refused)
        with pytest.raises(PermissionError):
            index.search("Singapour")
        monkeypatch.undo()
        assert index.search("Singapour").hits  # and the index still answers


def test_damage_found_while_positions_are_read_in_place_is_reported(
    pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A phrase reads positions in place from the mapped posting arrays; damage found there
    (while those arrays are still held by the failing frame) is the usual error, and the
    index can still be closed and reopened."""
    from frsearch import postings, segments

    where = damaged_copy(pristine, tmp_path, lambda where: None)

    def damaged(starts: object, lengths: object, size: int) -> None:
        raise postings.DamagedArrays("a posting arrays file has bad position offsets")

    monkeypatch.setattr(segments, "check_slices", damaged)
    with frsearch.Index.open(where) as index:
        with pytest.raises(frsearch.IndexFormatError, match="damaged"):
            index.search('"États-Unis"')
    monkeypatch.undo()
    with frsearch.Index.open(where) as index:
        assert index.search('"États-Unis"').hits
