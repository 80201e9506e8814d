"""List the queries whose nDCG@10 differs most between two TREC run files.

    python benchmarks/quality/compare.py A.run B.run --collection DIR
    python benchmarks/quality/compare.py A.run B.run --qrels qrels.tsv [--queries queries.jsonl]

Differences are B - A. The queries compared are the judged queries of
--queries when given (as run.py does), else every judged query of the qrels;
a query absent from a run (no result) scores 0 there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import metrics  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument("--collection", type=Path, help="directory with qrels.tsv and queries.jsonl")
    parser.add_argument("--qrels", type=Path)
    parser.add_argument("--queries", type=Path, help="queries JSONL, for the query set and the query texts")
    parser.add_argument("-n", "--top", type=int, default=20, help="how many queries to list (default 20)")
    args = parser.parse_args(argv)
    qrels_path = args.qrels or (args.collection / "qrels.tsv" if args.collection else None)
    queries_path = args.queries or (args.collection / "queries.jsonl" if args.collection else None)
    if qrels_path is None:
        parser.error("give --qrels or --collection")

    qrels = metrics.read_qrels(qrels_path)
    texts: dict[str, str] = {}
    if queries_path is not None and queries_path.is_file():
        with open(queries_path, encoding="utf-8") as handle:
            texts = {q["id"]: q["text"] for q in map(json.loads, filter(str.strip, handle))}
    qids = [q for q in metrics.judged_queries(qrels) if not texts or q in texts]
    a = metrics.evaluate(metrics.read_run(args.run_a), qrels, qids)
    b = metrics.evaluate(metrics.read_run(args.run_b), qrels, qids)
    mean_a, mean_b = metrics.mean(a)["nDCG@10"], metrics.mean(b)["nDCG@10"]
    diffs = {q: b[q]["nDCG@10"] - a[q]["nDCG@10"] for q in a}
    better = sum(d > 0 for d in diffs.values())
    worse = sum(d < 0 for d in diffs.values())
    print(f"nDCG@10  A {mean_a:.4f}  B {mean_b:.4f}  B-A {mean_b - mean_a:+.4f}  over {len(diffs)} queries")
    print(f"B better on {better}, worse on {worse}, equal on {len(diffs) - better - worse}")
    print(f"\n{'qid':<20} {'A':>6} {'B':>6} {'B-A':>7}  query")
    for qid in sorted(diffs, key=lambda q: (-abs(diffs[q]), q))[: args.top]:
        if diffs[qid] == 0:
            break
        text = " ".join(texts.get(qid, "").split())
        print(f"{qid:<20} {a[qid]['nDCG@10']:>6.3f} {b[qid]['nDCG@10']:>6.3f} {diffs[qid]:>+7.3f}  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
