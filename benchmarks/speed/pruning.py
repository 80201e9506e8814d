"""The pruned evaluation (frsearch/pruning.py) on a real index: does it give the exhaustive
evaluation's page, how many of the matching documents does it score, and what does it save.

    python benchmarks/speed/pruning.py INDEX_DIR [--queries FILE] [--rounds 5]
    python benchmarks/speed/pruning.py --corpus corpus.jsonl [--copies N] [--queries queries.jsonl]

INDEX_DIR is an frsearch index (for instance one kept by ``run.py --keep``); with --corpus,
an in-memory index of the corpus is built first. For every query (the speed harness's by
default, or a queries.jsonl's "text"), the first page of 10 hits is searched with and without
pruning and compared: total, documents and scores to the last bit. Then the share of the
matching documents the pruned evaluation scored, and the CPU time of a query in each mode,
once every query has run (the two modes in turn, ``--rounds`` times; medians).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import DEFAULT_QUERIES, load_corpus, load_queries  # noqa: E402


def read_queries(path: str) -> list[str]:
    if path.endswith(".jsonl"):
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line)["text"] for line in handle if line.strip()]
    return load_queries(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", nargs="?", help="an frsearch index folder")
    parser.add_argument("--corpus", help="corpus.jsonl[.gz] to index in memory instead")
    parser.add_argument("--copies", type=int, default=1, help="with --corpus: the corpus N times, fresh ids")
    parser.add_argument("--queries", default=str(DEFAULT_QUERIES), help="queries.txt or queries.jsonl")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each mode")
    args = parser.parse_args(argv)
    if not args.index and not args.corpus:
        parser.error("give an INDEX folder or --corpus")

    import frsearch
    from frsearch import pruning

    if args.corpus:
        index = frsearch.Index()
        index.add_documents(
            {"id": d["id"], "title": d.get("title") or "", "body": d.get("text") or ""}
            for d in load_corpus(args.corpus, None, args.copies)
        )
    else:
        index = frsearch.Index.open(args.index)
    engine = index.engine()
    queries = read_queries(args.queries)

    def page(query: str, prune: bool) -> Any:
        engine.prune = prune
        try:
            results = index.search(query, limit=10, snippets=False)
        except frsearch.QueryError:
            return None
        return results.total, [(hit.docnum, hit.score.hex()) for hit in results]

    differ = [q for q in queries if page(q, False) != page(q, True)]

    shares: list[tuple[int, int]] = []
    by_blocks = pruning._by_blocks

    def counted(blocks: Any, score: Any, depth: int) -> Any:
        found = by_blocks(blocks, score, depth)
        matching = np.bitwise_or.reduce([clause.bits for clause in blocks.lists])
        shares.append((len(found[0]), int(np.count_nonzero(np.unpackbits(matching)))))
        return found

    pruning._by_blocks = counted  # type: ignore[assignment]
    for query in queries:
        page(query, True)
    pruning._by_blocks = by_blocks  # type: ignore[assignment]

    times: dict[bool, dict[str, list[float]]] = {True: {}, False: {}}
    for turn in range(args.rounds):
        for query in queries:
            for prune in ((True, False) if turn % 2 else (False, True)):
                start = time.process_time()
                page(query, prune)
                times[prune].setdefault(query, []).append(time.process_time() - start)

    scored, matching = sum(s for s, _m in shares), sum(m for _s, m in shares)
    print(f"documents: {len(index):,}; queries: {len(queries):,}")
    print(f"pages that differ from the exhaustive evaluation's: {len(differ)}" + (f" ({differ[:5]})" if differ else ""))
    if shares:
        median = statistics.median(s / m for s, m in shares if m)
        print(f"queries pruned by blocks: {len(shares)}; documents scored: {scored:,} of {matching:,} "
              f"matching ({scored / matching:.1%}; median query {median:.1%})")
    for prune in (True, False):
        per_query = sorted(statistics.median(values) for values in times[prune].values())
        p95 = per_query[max(0, int(0.95 * len(per_query)) - 1)]
        print(f"{'pruned    ' if prune else 'exhaustive'} CPU a query once every query ran: "
              f"p50 {statistics.median(per_query) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
