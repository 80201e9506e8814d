"""Shared helpers of the speed harness: corpus reading, queries, Whoosh schema, memory, stats."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import statistics
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


def load_corpus(path: str | os.PathLike[str], max_docs: int | None = None) -> list[dict[str, str]]:
    """The corpus as a list (so reading and decompressing are not timed as indexing)."""
    return list(iter_corpus(path, max_docs))


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
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
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
