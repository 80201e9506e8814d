"""Keeping an index current while files change: ``frsearch index --watch``.

File events come from watchfiles (MIT; imported only here), which groups
them: a batch is handed over when no new event came for ``step_ms``, or after
``debounce_ms`` at most while events keep coming. Each batch is one
incremental sync of the paths it names (one commit), so a saved file is
searchable about ``step_ms`` after it is written, and a burst of thousands of
events (an unzip, a git checkout) makes a commit every ``debounce_ms`` at
most, not one per file. Files that disappear are removed by the same sync.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from frsearch.documents import MAX_FILE_SIZE, SUPPORTED_SUFFIXES
from frsearch.errors import FrsearchError
from frsearch.index import Index, SyncReport

__all__ = ["DEBOUNCE_MS", "STEP_MS", "watch_paths"]

#: Longest time events are grouped before a sync (a burst makes one commit this often).
DEBOUNCE_MS = 1600
#: Quiet time after the last event before a sync.
STEP_MS = 200


def _relevant(path: str, roots: Sequence[str], index_dir: str | None) -> bool:
    """Whether an event on ``path`` can change what the index holds."""
    path = os.path.abspath(path)
    if index_dir and (path == index_dir or path.startswith(index_dir + os.sep)):
        return False
    for root in roots:
        if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
            rel = os.path.relpath(path, root)
            if any(part.startswith(".") for part in rel.split(os.sep) if part not in (".", "")):
                return False  # hidden, as the folder walk skips them
            break
    if os.path.splitext(path)[1].lower() in SUPPORTED_SUFFIXES:
        return True
    return os.path.isdir(path) or not os.path.lexists(path)  # a folder added, or anything removed


def watch_paths(
    index: Index,
    paths: Sequence[str | os.PathLike[str]],
    *,
    max_size: int = MAX_FILE_SIZE,
    wait: float = 30.0,
    on_sync: Callable[[SyncReport], None] | None = None,
    on_error: Callable[[FrsearchError], None] | None = None,
    stop_event: Any = None,
    debounce_ms: int = DEBOUNCE_MS,
    step_ms: int = STEP_MS,
) -> int:
    """Sync ``paths`` into ``index`` as their files change, until ``stop_event`` is set or Ctrl-C.

    Returns the number of syncs made. ``on_sync(report)`` is called after each.
    A sync that fails (the index locked by another run past ``wait``, a file
    gone between the event and its reading) is given to ``on_error`` and its
    paths are tried again with the next batch: no change is forgotten.
    """
    try:
        from watchfiles import watch
    except ImportError:
        raise FrsearchError(
            "watching folders needs the watchfiles package",
            hint="Install it with `pip install 'frsearch[watch]'`.",
        ) from None
    given = [os.fspath(p) for p in paths]
    roots = [os.path.abspath(p) for p in given]
    missing = [p for p in given if not os.path.exists(p)]
    if missing:
        raise FrsearchError(f"cannot watch {missing[0]}: it does not exist")
    index_dir = os.path.abspath(index.path) if index.path else None
    syncs = 0
    pending: set[str] = set()
    for changes in watch(
        *given, watch_filter=None, debounce=debounce_ms, step=step_ms, stop_event=stop_event,
        raise_interrupt=False, rust_timeout=500 if stop_event is not None else 5000, yield_on_timeout=True,
    ):
        pending.update(path for _change, path in changes if _relevant(path, roots, index_dir))
        if not pending:
            continue
        batch, pending = sorted(pending), set()
        try:
            report = _sync(index, batch, given, roots, max_size, wait)
        except FrsearchError as exc:
            pending.update(batch)  # tried again with the next batch, or in a few seconds
            if on_error is not None:
                on_error(exc)
            continue
        syncs += 1
        if on_sync is not None:
            on_sync(report)
    return syncs


def _sync(index: Index, batch: list[str], given: Sequence[str], roots: Sequence[str], max_size: int,
          wait: float) -> SyncReport:
    """One batch: paths gone are dropped from the index, the others synced (a commit each, at most)."""
    gone = [path for path in batch if not os.path.lexists(path)]
    present = [_as_given(path, given, roots) for path in batch if os.path.lexists(path)]
    dropped = index.drop(gone, wait=wait) if gone else []
    report = index.index_paths(present, wait=wait, max_size=max_size) if present else SyncReport()
    report.removed[:0] = [path for path in dropped if path not in report.removed]
    return report


def _as_given(path: str, given: Sequence[str], roots: Sequence[str]) -> str:
    """``path`` written under the folder the user named (relative if they gave it so)."""
    for shown, root in zip(given, roots):
        if path == root:
            return shown
        if path.startswith(root.rstrip(os.sep) + os.sep):
            return os.path.join(shown, os.path.relpath(path, root))
    return path
