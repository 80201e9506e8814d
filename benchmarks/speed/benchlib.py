"""Shared helpers of the speed harness: corpus reading, queries, Whoosh schema, memory, stats."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import statistics
import threading
from pathlib import Path
from typing import Any, Iterator

HERE = Path(__file__).resolve().parent
DEFAULT_QUERIES = HERE / "queries.txt"
ENGINES = ("frsearch", "whoosh")


def iter_corpus(path: str | os.PathLike[str], max_docs: int | None = None) -> Iterator[dict[str, str]]:
    """Yield {"id","title","text"} dicts from a JSON-lines corpus (plain or .gz)."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as raw:
        for n, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8")):
            if max_docs is not None and n >= max_docs:
                break
            if line.strip():
                yield json.loads(line)


def load_corpus(path: str | os.PathLike[str], max_docs: int | None = None, copies: int = 1) -> list[dict[str, str]]:
    """The corpus as a list (so reading and decompressing are not timed as indexing).

    With ``copies`` N above 1, the documents come N times over, each copy after the first
    with fresh ids (``id~2``, ``id~3``, ...): a collection N times larger with the same
    words, whose copies share their text in memory (the list costs about one corpus).
    """
    docs = list(iter_corpus(path, max_docs))
    out = list(docs)
    for copy in range(2, copies + 1):
        out.extend({**d, "id": f"{d['id']}~{copy}"} for d in docs)
    return out


def text_bytes(docs: list[dict[str, str]]) -> int:
    """UTF-8 size of titles and texts: the "MB of text" that MB/s is computed on."""
    return sum(len(d.get("title", "").encode("utf-8")) + len(d.get("text", "").encode("utf-8")) for d in docs)


def load_queries(path: str | os.PathLike[str] = DEFAULT_QUERIES) -> list[str]:
    """Queries, one a line; blank lines and lines starting with # are skipped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [q.strip() for q in lines if q.strip() and not q.lstrip().startswith("#")]


# French boolean operators are frsearch syntax; Whoosh's parser only knows the English ones.
_FRENCH_OPS = {"ET": "AND", "OU": "OR", "SAUF": "NOT"}
_OP_RE = re.compile(r'("[^"]*")|\b(ET|OU|SAUF)\b')


def whoosh_query_text(query: str) -> str:
    """The same query for Whoosh's parser: ET/OU/SAUF outside quotes become AND/OR/NOT."""
    return _OP_RE.sub(lambda m: m.group(1) or _FRENCH_OPS[m.group(2)], query)


def whoosh_schema() -> Any:
    """Stock Whoosh schema: id, and title/body with the stock French LanguageAnalyzer."""
    from whoosh.analysis import LanguageAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(stored=True, analyzer=LanguageAnalyzer("fr")),
        body=TEXT(stored=True, analyzer=LanguageAnalyzer("fr")),
    )


def proc_status_kb(key: str) -> int | None:
    """A kB value of /proc/self/status (VmRSS, VmHWM), or None off Linux."""
    return _proc_kb("/proc/self/status", key)


def _proc_kb(path: str, key: str) -> int | None:
    """The kB value of line ``key:`` of a /proc file, or None."""
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def dir_size(path: str | os.PathLike[str]) -> int:
    """Total size in bytes of the files under ``path``."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, name))
            except OSError:
                pass
    return total


def percentile(values: list[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100) of a non-empty list."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    k = (len(data) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def summarize(values: list[float]) -> dict[str, float]:
    """p50, p95, mean and max of per-query latencies (seconds)."""
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "mean": statistics.fmean(values),
        "max": max(values),
    }


def tree_rss_kb(root: int) -> int | None:
    """Memory of process ``root`` and all its descendants (kB), or None off Linux.

    Each process counts its proportional set size (Pss: a page shared by n
    processes counts 1/n in each), so pages a forked writer shares with its
    parent are not counted twice; VmRSS where Pss is not available.
    """
    total, todo, seen = 0, [root], False
    while todo:
        pid = todo.pop()
        try:
            value = _proc_kb(f"/proc/{pid}/smaps_rollup", "Pss") or _proc_kb(f"/proc/{pid}/status", "VmRSS")
            if value is not None:
                total += value
                seen = True
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as handle:
                    todo.extend(int(child) for child in handle.read().split())
        except OSError:
            continue  # the process ended meanwhile, or no /proc
    return total if seen else None


class TreePeakRss:
    """Samples tree_rss_kb of this process every ``interval`` seconds in a thread; keeps the peak.

    frsearch writes large batches with two processes; VmHWM of the parent alone
    would leave their memory out. Reading Pss makes the kernel walk each
    process's page tables (about 10 ms a process here): sampling every 0.1 s took
    a third of a core from the build it measures, every 2 s takes under 1 %.
    """

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self.peak_kb: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        root = os.getpid()
        while not self._stop.is_set():
            value = tree_rss_kb(root)
            if value is not None:
                self.peak_kb = max(self.peak_kb or 0, value)
            self._stop.wait(self.interval)

    def __enter__(self) -> "TreePeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
