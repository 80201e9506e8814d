"""Folder sync: bring an index up to date with files and folders, list and drop its files.

A sync walks the folders given, reads the files that are new or changed since
the last run (same modification time and size: not read again), replaces them,
and removes the indexed files seen to be gone. It commits every COMMIT_DOCS
documents or COMMIT_SECONDS, so that an interrupted first run keeps what it
finished. The :class:`~frsearch.index.Index` methods ``index_paths``, ``files``
and ``drop`` call the functions here.
"""

from __future__ import annotations

import errno
import os
import stat as statmod
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from whoosh.writing import CLEAR

from frsearch.documents import SUPPORTED_SUFFIXES, SkippedFile, read_document, too_large
from frsearch.errors import PathError
from frsearch.store import decode_key as _decode_key, encode_key as _encode_key

if TYPE_CHECKING:
    from frsearch.index import Index

__all__ = ["COMMIT_DOCS", "COMMIT_SECONDS", "SyncReport", "check_paths", "drop", "files", "index_paths"]

#: A folder sync commits every this many written documents, or every COMMIT_SECONDS, so that an
#: interrupted first run keeps what it finished and a re-run resumes from there.
COMMIT_DOCS = 2000
COMMIT_SECONDS = 30.0


@dataclass
class SyncReport:
    """What one ``index`` run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0
    #: Files of types frsearch does not read, found in the folders: extension -> paths.
    not_read: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped"
        )
        if self.not_read:
            counts = sorted(self.not_read.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            total = sum(len(paths) for paths in self.not_read.values())
            text += f", {total} not read: " + ", ".join(f"{len(v)} {k}" for k, v in counts)
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "not_read": {ext: len(paths) for ext, paths in sorted(self.not_read.items())},
            "seconds": round(self.seconds, 3),
        }


def _signature(st: os.stat_result) -> str:
    return f"{st.st_mtime_ns} {st.st_size}"


def check_paths(paths: Sequence[str | os.PathLike[str]]) -> list[tuple[str, bool]]:
    """Each path given to index, as text, with whether it is a folder.

    Raises PathError, naming the first path that does not exist or cannot be
    read: a renamed folder or an unplugged drive must not empty the index.
    """
    checked: list[tuple[str, bool]] = []
    for given in paths:
        given = os.fspath(given)
        if isinstance(given, bytes):
            given = os.fsdecode(given)
        try:
            st = os.stat(given)
            if statmod.S_ISDIR(st.st_mode):
                with os.scandir(given):
                    pass
        except OSError as exc:
            reason = _stat_failure(given, exc, "does not exist")
            raise PathError(f"{given}: {reason}") from None
        checked.append((given, statmod.S_ISDIR(st.st_mode)))
    return checked


class _Walk:
    """The folders one sync really read, to tell a file that is gone from one never looked at."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def gone(self, key: str) -> bool:
        """Whether an indexed file was seen to be gone: its folder, or the nearest one of its
        folders that still exists, was read in this run and the file is not on disk."""
        if os.path.lexists(key):
            return False
        folder = os.path.dirname(key)
        while folder not in self.read:
            if os.path.lexists(folder):
                return False  # a folder this run did not read (not given, hidden or unreadable)
            parent = os.path.dirname(folder)
            if parent == folder:
                return False
            folder = parent
        return True


def _stat_failure(path: str, exc: OSError, missing: str) -> str:
    """Why a path that os.stat refused is skipped."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if os.path.islink(path):
        return "broken symbolic link"
    if isinstance(exc, FileNotFoundError):
        return missing
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot be read ({exc.strerror or exc})"


def index_paths(
    index: Index,
    paths: Sequence[str | os.PathLike[str]],
    *,
    rebuild: bool,
    wait: float,
    max_size: int,
    progress: Callable[[int, int], None] | None,
) -> SyncReport:
    """What :meth:`Index.index_paths <frsearch.index.Index.index_paths>` does."""
    from frsearch.index import _abort

    started = time.monotonic()
    report = SyncReport()
    walk = _Walk()
    candidates = list(_walk(index.path, paths, report, walk))  # PathError before anything is written
    writer = index._writer(wait)
    try:
        # A rebuild never reads the old segments (they may be damaged): its first commit
        # drops all of them (CLEAR) and keeps only the files it has indexed so far.
        known = {} if rebuild else index._reading(lambda: known_files(writer))
        deleted_before = writer.deleted_count()
        seen: set[str] = set()
        total = len(candidates)
        batch_started, written = time.monotonic(), 0
        for done, (shown, key) in enumerate(candidates, 1):
            if key in seen:
                continue
            seen.add(key)
            written += index._reading(lambda: _sync_one(writer, shown, key, known.get(key), report,
                                                         max_size, replace=not rebuild))
            if progress:
                progress(done, total)
            if written >= COMMIT_DOCS or (written and time.monotonic() - batch_started > COMMIT_SECONDS):
                index._commit(writer, **({"mergetype": CLEAR} if rebuild else {}))
                rebuild = False  # the old segments are gone now; later batches add to this one
                writer = index._writer(wait)
                deleted_before = writer.deleted_count()
                batch_started, written = time.monotonic(), 0
        for key, (shown, _sig) in known.items():
            if key not in seen and walk.gone(key):
                index._reading(lambda: writer.delete_by_term("id", _encode_key(key)))
                report.removed.append(shown)
        if rebuild:
            index._commit(writer, mergetype=CLEAR)
        elif writer.docnum == writer.docbase and writer.deleted_count() == deleted_before:
            _abort(writer)  # nothing changed: keep the table of contents as it is
        else:
            index._commit(writer)
    except BaseException:
        index._abandon(writer)
        raise
    report.seconds = time.monotonic() - started
    return report


def _sync_one(
    writer: Any,
    shown: str,
    key: str,
    known: tuple[str, str] | None,
    report: SyncReport,
    max_size: int,
    *,
    replace: bool = True,
) -> int:
    """Bring one file up to date; returns how many documents were written (0 or 1)."""
    from frsearch.index import KIND_FILE, _fields_of

    try:
        st = os.stat(key)
    except OSError as exc:
        _skip(writer, shown, key, known, _stat_failure(key, exc, "no longer exists"), report)
        return 0
    if st.st_size > max_size:  # also an indexed file when the limit was lowered since
        _skip(writer, shown, key, known, too_large(st.st_size, max_size), report)
        return 0
    if known is not None and known[1].startswith(_signature(st) + " "):
        report.unchanged += 1
        return 0
    try:
        doc = read_document(key, max_size=max_size)
    except SkippedFile as exc:
        _skip(writer, shown, key, known, exc.reason, report)
        return 0
    doc.path = shown
    doc.id = key
    write = writer.update_document if replace else writer.add_document
    if known is not None and known[1].endswith(" " + (doc.hash or "")):
        # Touched but identical: store the new signature, count it as unchanged.
        write(**_fields_of(doc, KIND_FILE, st))
        report.unchanged += 1
        return 1
    write(**_fields_of(doc, KIND_FILE, st))
    (report.updated if known is not None else report.added).append(shown)
    return 1


def _skip(
    writer: Any, shown: str, key: str, known: tuple[str, str] | None, reason: str, report: SyncReport
) -> None:
    report.skipped.append(SkippedFile(shown, reason))
    if known is not None:
        # What is on disk can no longer be indexed: do not keep serving the old text.
        writer.delete_by_term("id", _encode_key(key))
        report.removed.append(shown)


def known_files(writer: Any) -> dict[str, tuple[str, str]]:
    """Indexed files: absolute path -> (path as shown, "mtime_ns size hash").

    Read from columns, so no stored body is loaded.
    """
    reader = writer.reader()
    try:
        known: dict[str, tuple[str, str]] = {}
        if reader.doc_count() == 0:
            return known
        # Column by column in each segment: Whoosh's multi-segment column reader
        # fails when a segment lacks the column (one with library documents only).
        for leaf, _base in reader.leaf_readers():
            if not leaf.has_column("signature"):
                continue
            ids = leaf.column_reader("id")
            paths = leaf.column_reader("path")
            signatures = leaf.column_reader("signature")
            for docnum in leaf.all_doc_ids():
                signature = signatures[docnum]
                if signature:
                    key = _decode_key(ids[docnum])
                    known[key] = (_decode_key(paths[docnum]) if paths[docnum] else key, signature)
        return known
    finally:
        reader.close()


def _walk(
    index_path: str | None, paths: Sequence[str | os.PathLike[str]], report: SyncReport, walk: _Walk
) -> Iterator[tuple[str, str]]:
    """Yield (path as shown, absolute path) of every supported file under ``paths``.

    Every path given must exist and be readable (PathError otherwise, checked
    before the first file is yielded); ``walk`` records the folders read.
    """
    given_paths = check_paths(paths)
    index_dir = os.path.abspath(index_path) if index_path else None
    for given, is_dir in given_paths:
        if is_dir:
            yield from _walk_dir(given, index_dir, report, walk)
        elif os.path.splitext(given)[1].lower() in SUPPORTED_SUFFIXES:
            yield given, os.path.abspath(given)
        elif not any(s.path == given for s in report.skipped):
            report.skipped.append(SkippedFile(given, "unsupported file type"))


def _walk_dir(top: str, index_dir: str | None, report: SyncReport, walk: _Walk) -> Iterator[tuple[str, str]]:
    def on_error(exc: OSError) -> None:
        report.skipped.append(
            SkippedFile(exc.filename or top, f"folder cannot be read ({exc.strerror})")
        )

    for dirpath, dirnames, filenames in os.walk(top, onerror=on_error):
        walk.read.add(os.path.abspath(dirpath))
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and os.path.abspath(os.path.join(dirpath, d)) != index_dir
        )
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            suffix = os.path.splitext(name)[1].lower()
            if suffix not in SUPPORTED_SUFFIXES:
                report.not_read.setdefault(suffix or "(no extension)", []).append(os.path.join(dirpath, name))
                continue
            shown = os.path.join(dirpath, name)
            yield shown, os.path.abspath(shown)


def files(index: Index) -> list[dict[str, Any]]:
    """What :meth:`Index.files <frsearch.index.Index.files>` gives."""
    from frsearch.index import KIND_FILE

    rows = []
    for stored in index.documents():
        if stored.get("kind") != KIND_FILE:
            continue
        row: dict[str, Any] = {
            "path": stored.get("path") or stored["id"],
            "title": stored.get("title") or "",
            "size": stored.get("size"),
            "mtime": stored.get("mtime"),
        }
        if stored.get("pages"):
            row["pages"] = len(stored["pages"])
        if stored.get("fields"):
            row["fields"] = stored["fields"]
        rows.append(row)
    return sorted(rows, key=lambda r: r["path"])


def drop(index: Index, paths: Sequence[str | os.PathLike[str]], *, wait: float) -> list[str]:
    """What :meth:`Index.drop <frsearch.index.Index.drop>` does."""
    from frsearch.index import _abort

    wanted = [os.path.abspath(os.fspath(p)) for p in paths]
    writer = index._writer(wait)
    try:
        known = index._reading(lambda: known_files(writer))
        removed = []
        for key, (shown, _sig) in sorted(known.items()):
            if any(key == w or key.startswith(w.rstrip(os.sep) + os.sep) for w in wanted):
                writer.delete_by_term("id", _encode_key(key))
                removed.append(shown)
        if removed:
            index._commit(writer)
        else:
            _abort(writer)
    except BaseException:
        _abort(writer)
        raise
    return removed
