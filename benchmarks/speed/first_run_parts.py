"""Where a query's first run goes, part by part, and what it would take without its word lists.

    python benchmarks/speed/first_run_parts.py INDEX_DIR [--processes 5] [--snippets] [--slowest N]

INDEX_DIR is an frsearch index (for instance one kept by ``run.py --keep``). Each of
``--processes`` fresh processes opens the index, reads its files once (as the speed harness
does), runs the harness's warm-up queries, then runs each query of the set once, timing the
query and the time spent in each part of frsearch below. A part's time is its own: a part
called inside another (a term's postings decoded for a word's list, a snippet inside a
hit) counts for itself only. Each query keeps its median over the processes.

"Postings decoded" is a term's document numbers and frequencies read from the index (for
any part); "word lists, scored" is the rest of what a word's first query does to score it
(BM25 over its postings, the lists pruning reads). Per-block score bounds stored in the
index would save at most the scoring while totals stay exact (a total needs every matching
document's number), and at most both parts if they did not. The report gives the first-run
p50 and p95 less each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import DEFAULT_QUERIES, load_queries, percentile  # noqa: E402

WORD_LISTS = "word lists, scored"
POSTINGS = "postings decoded"


def _parts() -> list[tuple[Any, str, str]]:
    """(owner, attribute, label) of each timed part."""
    from frsearch import expand, proximity, pruning, ranking, search, segments

    return [
        (segments.Segments, "term_vectors", POSTINGS),
        (ranking.Scorer, "word_scores", WORD_LISTS),
        (pruning.Pruner, "word_list", WORD_LISTS),
        (expand.Expander, "expansions_once", "related forms and typos"),
        (ranking.Scorer, "phrase_scores", "phrases"),
        (pruning, "_by_blocks", "block rounds"),
        (proximity.Proximity, "add_bonus", "proximity and window bonuses"),
        (expand.Expander, "suggest", "did you mean"),
        (search.Engine, "_hit", "hits (stored fields)"),
        (search, "make_snippet", "snippets"),
    ]


class _Clock:
    """Own time per label: a call's time less that of the timed calls inside it."""

    def __init__(self) -> None:
        self.own: dict[str, float] = {}
        self._inner = [0.0]

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)
        clock = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            clock._inner.append(0.0)
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                inner = clock._inner.pop()
                clock.own[label] = clock.own.get(label, 0.0) + spent - inner
                clock._inner[-1] += spent

        setattr(owner, name, timed)


def child(index_dir: str, queries_file: str, snippets: bool) -> None:
    """One process: every query's first run and its parts, as JSON on stdout."""
    from worker import WARMUP, read_files

    import frsearch

    clock = _Clock()
    for owner, name, label in _parts():
        clock.wrap(owner, name, label)
    read_files(index_dir)
    index = frsearch.Index.open(index_dir)
    for query in WARMUP:
        index.search(query, limit=10, snippets=snippets)
    rows = []
    for query in load_queries(queries_file):
        clock.own = {}
        start = time.perf_counter()
        results = index.search(query, limit=10, snippets=snippets)
        for hit in results:
            hit.id, hit.title, hit.snippet  # what a caller reads
        rows.append({"query": query, "total": time.perf_counter() - start, "parts": clock.own})
    index.close()
    json.dump(rows, sys.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", help="an frsearch index directory")
    parser.add_argument("--queries", default=str(DEFAULT_QUERIES))
    parser.add_argument("--processes", type=int, default=5, help="fresh processes (each query's median kept)")
    parser.add_argument("--snippets", action="store_true", help="search with snippets")
    parser.add_argument("--slowest", type=int, default=0, help="list this many slowest queries with their parts")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.index, args.queries, args.snippets)
        return 0
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    if not Path(args.index).is_dir():
        parser.error(f"no index folder at {args.index}")

    runs: list[list[dict[str, Any]]] = []
    for _ in range(args.processes):
        command = [sys.executable, __file__, args.index, "--queries", args.queries, "--child"]
        if args.snippets:
            command.append("--snippets")
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            print(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "a process failed", file=sys.stderr)
            return 1
        runs.append(json.loads(done.stdout))

    labels = list(dict.fromkeys(label for _o, _n, label in _parts()))
    totals, unscored, undecoded, queries = [], [], [], []
    parts: dict[str, list[float]] = {label: [] for label in labels}
    for rows in zip(*runs):
        queries.append(rows[0]["query"])
        total = statistics.median(row["total"] for row in rows)
        totals.append(total)
        own = {label: statistics.median(row["parts"].get(label, 0.0) for row in rows) for label in labels}
        unscored.append(total - own[WORD_LISTS])
        undecoded.append(total - own[WORD_LISTS] - own[POSTINGS])
        for label in labels:
            parts[label].append(own[label])

    count = len(totals)
    print(f"{count} queries, first runs, {'with' if args.snippets else 'without'} snippets, "
          f"medians of {args.processes} processes, in ms")
    print(f"{'first run':32s} p50 {percentile(totals, 50) * 1e3:6.2f}  p95 {percentile(totals, 95) * 1e3:6.2f}")
    for name, values in (("less the scoring", unscored), ("less the scoring and decoding", undecoded)):
        print(f"{name:32s} p50 {percentile(values, 50) * 1e3:6.2f}  p95 {percentile(values, 95) * 1e3:6.2f}")
    mean_total = sum(totals) / count
    print(f"\n{'part':32s} {'mean':>7s} {'share':>7s}")
    named = 0.0
    for label in sorted(labels, key=lambda label: -sum(parts[label])):
        mean = sum(parts[label]) / count
        named += mean
        print(f"{label:32s} {mean * 1e3:7.2f} {mean / mean_total:7.1%}")
    print(f"{'the rest':32s} {(mean_total - named) * 1e3:7.2f} {(mean_total - named) / mean_total:7.1%}")
    print(f"{'a query, on average':32s} {mean_total * 1e3:7.2f}")
    if args.slowest:
        print(f"\nthe {args.slowest} slowest queries, their time and their parts over 0.5 ms")
        for i in sorted(range(count), key=lambda i: -totals[i])[: args.slowest]:
            shown = ", ".join(f"{label} {parts[label][i] * 1e3:.1f}" for label in labels if parts[label][i] > 5e-4)
            print(f"{totals[i] * 1e3:7.2f}  {queries[i]}: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
