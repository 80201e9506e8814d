"""Child process of the speed harness: build one engine's index, or time the query set on it.

Run by run.py, one process per engine and task, so that peak memory is per engine.
Results are written as JSON to --result.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    ENGINES,
    TreePeakRss,
    load_corpus,
    load_queries,
    proc_status_kb,
    summarize,
    text_bytes,
    whoosh_query_text,
    whoosh_schema,
)


# -- build -------------------------------------------------------------------


def build_frsearch(docs: list[dict[str, str]], index_dir: str) -> None:
    """Public API, one commit."""
    import frsearch

    index = frsearch.Index(index_dir)
    index.add_documents({"id": d["id"], "title": d["title"], "body": d["text"]} for d in docs)
    index.close()


def build_whoosh(docs: list[dict[str, str]], index_dir: str) -> None:
    """Stock Whoosh: default writer, add_document for each document, one commit."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.create_in(index_dir, whoosh_schema())
    writer = ix.writer()
    for d in docs:
        writer.add_document(id=d["id"], title=d["title"], body=d["text"])
    writer.commit()
    ix.close()


def do_build(args: argparse.Namespace) -> dict[str, Any]:
    """Load the corpus, then time the build alone."""
    if args.engine == "frsearch":
        import frsearch  # noqa: F401  (import cost is not build time)
        build: Callable[[list[dict[str, str]], str], None] = build_frsearch
    else:
        import whoosh.index  # noqa: F401
        build = build_whoosh
    docs = load_corpus(args.corpus, args.max_docs, args.copies)
    rss_before = proc_status_kb("VmRSS")
    with TreePeakRss() as tree:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        build(docs, args.index)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "engine": args.engine,
        "docs": len(docs),
        "text_bytes": text_bytes(docs),
        "seconds": wall,
        "cpu_seconds": cpu,
        "rss_before_kb": rss_before,
        "peak_rss_kb": proc_status_kb("VmHWM"),
        # With writer subprocesses: their CPU time, and the sampled peak of the whole tree.
        "children_cpu_seconds": children.ru_utime + children.ru_stime,
        "tree_peak_rss_kb": tree.peak_kb,
    }


# -- queries -----------------------------------------------------------------


class FrsearchRunner:
    """frsearch.Index opened once; index.search with or without snippets."""

    def __init__(self, index_dir: str) -> None:
        import frsearch

        self.index = frsearch.Index.open(index_dir)

    def run(self, query: str, snippets: bool) -> int:
        results = self.index.search(query, limit=10, snippets=snippets)
        for hit in results:
            hit.id, hit.title, hit.snippet  # what a caller reads
        return int(results.total)


class WhooshRunner:
    """Stock Whoosh: MultifieldParser over title and body, top 10, hit.highlights("body")."""

    def __init__(self, index_dir: str, group: str) -> None:
        from whoosh import index as whoosh_index
        from whoosh.qparser import AndGroup, MultifieldParser, OrGroup

        self.ix = whoosh_index.open_dir(index_dir)
        self.searcher = self.ix.searcher()
        self.parser = MultifieldParser(
            ["title", "body"], self.ix.schema, group=OrGroup if group == "or" else AndGroup
        )
        self.last: Any = None

    def run(self, query: str, snippets: bool) -> int:
        q = self.parser.parse(whoosh_query_text(query))
        results = self.searcher.search(q, limit=10)
        for hit in results:
            hit.fields()  # stored id/title/body, as frsearch loads them
            if snippets:
                hit.highlights("body")
        self.last = results
        return -1  # counted outside the timed call, see total()

    def total(self) -> int:
        return len(self.last) if self.last is not None else -1


def time_call(fn: Callable[[], Any]) -> tuple[float, Any, str | None]:
    """(seconds, result, error) of one call; an exception is recorded, not raised."""
    seconds, _cpu, out, err = time_call_cpu(fn)
    return seconds, out, err


def time_call_cpu(fn: Callable[[], Any]) -> tuple[float, float, Any, str | None]:
    """(wall seconds, CPU seconds, result, error) of one call."""
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        out, err = fn(), None
    except Exception as exc:  # a query one engine cannot run must not stop the benchmark
        out, err = None, f"{type(exc).__name__}: {exc}"
    return time.perf_counter() - t0, time.process_time() - c0, out, err


# Warm-up queries (loads columns and code paths); words kept out of queries.txt so that the
# first run of each measured query does not find its own terms already cached.
WARMUP = ("viticulture", '"produits phytopharmaceutiques"', "apiculteur OR abeilles", "douane", "fromage")


def read_files(folder: str) -> None:
    """Read every file of an index once, untimed, so that queries are timed on a warm page cache.

    This machine drops file pages that have not been used for 30 s (a DAMON page-out
    scheme), and each engine's index waits minutes for its turn after its build: the
    first of its query modes would be timed reading the disk. Both engines get the same.
    """
    for path in sorted(Path(folder).iterdir()):
        if path.is_file():
            with open(path, "rb") as f:
                while f.read(1 << 20):
                    pass


def do_query(args: argparse.Namespace) -> dict[str, Any]:
    """Open the index once, warm up, then time every query in one mode (--mode).

    Pass 1 runs each query once ("first": the first time this query text is run in
    the process); then each query is run --repeat more times and the median is kept
    ("repeat": what a cache in the engine makes of a query seen before).
    """
    queries = load_queries(args.queries)
    snippets = args.mode == "snippets"
    read_files(args.index)
    if args.engine == "frsearch":  # imports are not part of the index open time
        import frsearch  # noqa: F401
    else:
        import whoosh.index  # noqa: F401
        import whoosh.qparser  # noqa: F401
    t0 = time.perf_counter()
    runner: Any = FrsearchRunner(args.index) if args.engine == "frsearch" else WhooshRunner(args.index, args.group)
    open_s = time.perf_counter() - t0
    first_s, _, _ = time_call(lambda: runner.run(WARMUP[0], snippets))
    for q in WARMUP[1:]:
        time_call(lambda: runner.run(q, snippets))
    rows: list[dict[str, Any]] = []
    for q in queries:
        seconds, cpu, total, err = time_call_cpu(lambda: runner.run(q, snippets))
        row: dict[str, Any] = {"query": q, "first": seconds, "first_cpu": cpu}
        if err:
            row["error"] = err
        else:
            row["total"] = runner.total() if args.engine == "whoosh" else total
        rows.append(row)
    for row in rows:
        row["repeat"] = statistics.median(
            time_call(lambda: runner.run(row["query"], snippets))[0] for _ in range(args.repeat)
        )
    ok = [r for r in rows if "error" not in r]
    return {
        "engine": args.engine,
        "mode": args.mode,
        "group": args.group if args.engine == "whoosh" else None,
        "queries": len(queries),
        "repeat": args.repeat,
        "open_seconds": open_s,
        "first_query_seconds": first_s,
        "first": summarize([r["first"] for r in rows]),
        "first_cpu": summarize([r["first_cpu"] for r in rows]),
        "repeated": summarize([r["repeat"] for r in rows]),
        "errors": len(rows) - len(ok),
        "zero_hits": sum(1 for r in ok if r.get("total") == 0),
        "peak_rss_kb": proc_status_kb("VmHWM"),
        "per_query": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", choices=("build", "query"))
    parser.add_argument("--engine", choices=ENGINES, required=True)
    parser.add_argument("--index", required=True, help="index directory")
    parser.add_argument("--result", required=True, help="JSON file to write")
    parser.add_argument("--corpus", help="corpus.jsonl[.gz] (build)")
    parser.add_argument("--max-docs", type=int, default=None)
    parser.add_argument("--copies", type=int, default=1, help="build: the corpus this many times, fresh ids")
    parser.add_argument("--queries", default=None, help="queries file (query)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mode", choices=("plain", "snippets"), default="snippets",
                        help="query: without (plain) or with snippets")
    parser.add_argument("--group", choices=("or", "and"), default="or")
    args = parser.parse_args(argv)
    result = do_build(args) if args.task == "build" else do_query(args)
    Path(args.result).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
