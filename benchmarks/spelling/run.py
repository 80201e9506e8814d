"""Measure frsearch's "did you mean" on judged queries of a French collection.

    python benchmarks/spelling/run.py /work/shared/bench-data/codedutravail-dev
    python benchmarks/spelling/run.py DIR --show      # also list every suggestion

Indexes the collection's corpus with the public API (in memory), runs each query as a user
would type it (``Index.search(text, limit=10, snippets=False)``) and reads
``results.suggestion``. Against the judgments beside this script (see README.md):

- precision: the share of offered suggestions that are right;
- recall: the share of mistyped queries that get a right suggestion;
- leave alone: the words, names and acronyms of ``leave_alone.txt``, each searched alone
  (none may get a suggestion) and followed by a word of the index (none may then be
  searched as close spellings of other words).

Prints a table and writes ``spelling.TAG.json`` to --out (default benchmarks/results/).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

import frsearch

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parents[0] / "results"


def normalized(text: str) -> str:
    """A suggestion as compared with a judgment: case, accents and spacing aside."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.lower().split())


def read_tsv(path: Path) -> list[list[str]]:
    rows = []
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    for line in lines[1:]:  # the header
        rows.append(line.split("\t"))
    return rows


def expected_set(cell: str) -> set[str]:
    return set() if cell.strip() == "-" else {normalized(part) for part in cell.split(" | ")}


def read_queries(path: Path) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8") as handle:
        return [(item["id"], item["text"]) for item in map(json.loads, handle) if item]


def read_docs(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as handle:
        return [
            {"id": item["id"], "title": item.get("title") or "", "body": item.get("text") or ""}
            for item in map(json.loads, handle)
        ]


def close_spelt(results: Any) -> list[str]:
    """The query words searched as close spellings of other words (from explain()).

    explain() words a word's related forms the same way; a word whose own term is among
    the terms it was searched as is in the index, and is not counted."""
    out = []
    for line in results.explain():
        head, found, terms = line.partition(": not in the index, searched as close spellings ")
        if found and head.split(" -> ")[-1].split(" (")[0] not in terms.replace(" …", "").split(", "):
            out.append(line.strip())
    return out


def judge(index: frsearch.Index, rows: list[tuple[str, str, set[str]]]) -> dict[str, Any]:
    """Suggestions for (id, typed, right answers) rows, scored."""
    offered = right = mistyped = found = 0
    details = []
    for qid, typed, answers in rows:
        try:
            suggestion = index.search(typed, limit=10, snippets=False).suggestion
        except frsearch.QueryError:
            suggestion = None
        ok = suggestion is not None and normalized(suggestion) in answers
        offered += suggestion is not None
        right += ok
        mistyped += bool(answers)
        found += ok
        if suggestion is not None or answers:
            verdict = "right" if ok else ("wrong" if suggestion is not None else "missed")
            details.append({"id": qid, "typed": typed, "suggestion": suggestion,
                            "expected": sorted(answers), "verdict": verdict})
    return {
        "queries": len(rows), "mistyped": mistyped, "offered": offered, "right": right,
        "precision": right / offered if offered else None,
        "recall": found / mistyped if mistyped else None,
        "details": details,
    }


def leave_alone(index: frsearch.Index, lines: list[str], companion: str) -> dict[str, Any]:
    """Each line searched alone (no suggestion allowed) and followed by ``companion``, a word
    the index has (none of the line's words may then be searched as close spellings: alone,
    a query that would find nothing searches them as a last resort)."""
    suggested, expanded = [], []
    for text in lines:
        try:
            results = index.search(text, limit=10, snippets=False)
            spellings = close_spelt(index.search(f"{text} {companion}", limit=10, snippets=False))
        except frsearch.QueryError:
            continue
        if results.suggestion is not None:
            suggested.append({"typed": text, "suggestion": results.suggestion})
        if spellings:
            expanded.append({"typed": f"{text} {companion}", "explain": spellings})
    return {"queries": len(lines), "companion": companion, "suggested": suggested, "expanded": expanded}


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("collection", type=Path, help="directory with corpus.jsonl and queries.jsonl")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default: {DEFAULT_OUT})")
    parser.add_argument("--tag", default="frsearch", help="name of this run in the output file")
    parser.add_argument("--show", action="store_true", help="list every suggestion with its verdict")
    parser.add_argument("--companion", default="travail",
                        help="a word of the index searched after each leave-alone line (default: travail)")
    args = parser.parse_args(argv)

    judged = {row[0]: (row[1], expected_set(row[2])) for row in read_tsv(HERE / "judged.tsv")}
    queries = read_queries(args.collection / "queries.jsonl")
    texts = dict(queries)
    for qid, (typed, _answers) in judged.items():
        if texts.get(qid) != typed:
            raise SystemExit(f"judged.tsv: {qid} is {texts.get(qid)!r} in the collection, not {typed!r}")
    rows = [(qid, text, judged[qid][1] if qid in judged else set()) for qid, text in queries]
    examples = [(f"issue-{n}", row[0], expected_set(row[1]))
                for n, row in enumerate(read_tsv(HERE / "issue_examples.tsv"), 1)]
    alone = [line.strip() for line in (HERE / "leave_alone.txt").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]

    started = time.perf_counter()
    with frsearch.Index() as index:
        index.add_documents(read_docs(args.collection / "corpus.jsonl"))
        indexed = time.perf_counter()
        report = {
            "collection": args.collection.name,
            "tag": args.tag,
            "queries": judge(index, rows),
            "issue_examples": judge(index, examples),
            "leave_alone": leave_alone(index, alone, args.companion),
        }
    report["seconds"] = {"index": round(indexed - started, 1), "queries": round(time.perf_counter() - indexed, 1)}

    print(f"{'set':<28} {'queries':>7} {'mistyped':>8} {'offered':>7} {'right':>5} {'precision':>9} {'recall':>6}")
    for name, key in ((args.collection.name, "queries"), ("issue 19/13 examples", "issue_examples")):
        part = report[key]
        print(f"{name:<28} {part['queries']:>7} {part['mistyped']:>8} {part['offered']:>7} {part['right']:>5} "
              f"{fmt(part['precision']):>9} {fmt(part['recall']):>6}")
    lone = report["leave_alone"]
    print(f"leave alone: {lone['queries']} queries, {len(lone['suggested'])} got a suggestion, "
          f"{len(lone['expanded'])} searched as close spellings (followed by {lone['companion']!r})")
    if args.show:
        for key in ("queries", "issue_examples"):
            for item in report[key]["details"]:
                print(f"  {item['verdict']:<6} {item['typed']!r} -> {item['suggestion']!r}"
                      + (f" (expected {' | '.join(item['expected'])})" if item["verdict"] != "right" and item["expected"] else ""))
        for item in lone["suggested"]:
            print(f"  alone  {item['typed']!r} -> {item['suggestion']!r}")
        for item in lone["expanded"]:
            print(f"  alone  {item['typed']!r}: {'; '.join(item['explain'])}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"spelling.{args.tag}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
