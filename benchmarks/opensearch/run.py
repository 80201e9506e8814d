"""What a user keeps and loses by moving from frsearch to OpenSearch or Elasticsearch, measured in Lucene.

    python benchmarks/opensearch/run.py analysis ../shared/bench-data/piaf-train ../shared/bench-data/codedutravail-dev
    python benchmarks/opensearch/run.py ranking ../shared/bench-data/codedutravail-dev

``analysis``: every title and body of the collections through the exported analyzer
(frsearch.opensearch.index_body) run by Lucene's own factories, next to
frsearch.analyze: the share of token streams identical to frsearch's, the classes of
differences with an example each, for asciifolding and the ICU plugin's alternatives.

``ranking``: a Lucene BM25 index built with the exported analysis and per-field
similarity, every judged query translated by frsearch.opensearch.to_query_dsl, next to
frsearch's own run (benchmarks/quality/run.py's) in the same process; nDCG@10, R@100.
Results go to benchmarks/results/ as JSON; the tables are printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import frsearch
from frsearch import opensearch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "quality"))
import lucene  # noqa: E402
import metrics  # noqa: E402

def _load_quality() -> Any:
    """benchmarks/quality/run.py, under a name of its own (this file is a run.py too)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("quality_run", HERE.parent / "quality" / "run.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["quality_run"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


quality = _load_quality()

OUT = HERE.parent / "results"


# ---------------------------------------------------------------------------
# Analysis parity


def _non_latin(word: str) -> bool:
    return any(ch.isalpha() and ord(ch) > 0x24F and not unicodedata.combining(ch) for ch in word)


def compare_streams(text: str, ours: list[Any], theirs: list[tuple[str, int, int, int]],
                    theirs_folded: list[tuple[str, int, int, int]] | None) -> list[tuple[str, str, str, str]]:
    """Differences between frsearch's terms and Lucene's for one text, as
    (class, word, frsearch term, Lucene term); aligned on where each word ends."""
    by_end = {end: term for term, _start, end, _inc in theirs}
    folded_by_end = {end: term for term, _s, end, _i in theirs_folded or []}
    ours_ends = set()
    out = []
    for word in ours:
        ours_ends.add(word.end)
        other = by_end.get(word.end)
        if other == word.term:
            continue
        written = text[word.start:word.end]
        if other is None:
            kind = "tokenization: a word only frsearch indexes"
        elif _non_latin(written):
            kind = "non-Latin script: unidecode transliterates, the folding filter keeps it"
        elif theirs_folded is not None and folded_by_end.get(word.end) == word.folded:
            kind = "stemming: Lucene's Snowball French (2.x era) vs snowballstemmer 2+/3"
        else:
            kind = "folding: unidecode and the folding filter differ"
        out.append((kind, written, word.term, other or "-"))
    for term, start, end, _inc in theirs:
        if end not in ours_ends:
            out.append(("a term only Lucene indexes (e.g. a Greek letter unidecode folds to a stopword)", text[start:end], "-", term))
    return out


def analysis_parity(collections: list[Path], foldings: list[str]) -> dict[str, Any]:
    texts: list[tuple[str, str]] = []  # (collection, text)
    for folder in collections:
        docs = quality.read_jsonl(folder / "corpus.jsonl", ("id", "title", "text"))
        for doc in docs:
            texts += [(folder.name, doc["title"]), (folder.name, doc["text"])]
    plain = [lucene.clean(t) for _c, t in texts]
    print(f"analysis: {len(plain):,} texts (titles and bodies)", file=sys.stderr)
    t0 = time.perf_counter()
    ours = [frsearch.analyze(t) for t in plain]
    print(f"frsearch analyzed them in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    body = opensearch.index_body()
    report: dict[str, Any] = {"texts": len(plain), "foldings": {}}
    for folding in foldings:
        t0 = time.perf_counter()
        names = ["frsearch", "frsearch_exact"]
        streams = lucene.analyze_texts(body, plain, names, folding)
        seconds = time.perf_counter() - t0
        same_terms = same_positions = 0
        words = sum(len(mine) for mine in ours)
        per_collection: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        classes: Counter[str] = Counter()
        examples: dict[str, Counter[tuple[str, str, str]]] = defaultdict(Counter)
        for (collection, _t), text, mine, theirs, folded in zip(texts, plain, ours, streams["frsearch"],
                                                                streams["frsearch_exact"]):
            terms_equal = [w.term for w in mine] == [t[0] for t in theirs]
            per_collection[collection][1] += 1
            if terms_equal:
                same_terms += 1
                per_collection[collection][0] += 1
                if all(inc == 1 for *_x, inc in theirs[1:]):
                    same_positions += 1
                continue
            for kind, written, term, other in compare_streams(text, mine, theirs, folded):
                classes[kind] += 1
                examples[kind][(written, term, other)] += 1
        report["foldings"][folding] = {
            "identical_terms": same_terms,
            "identical_terms_share": round(same_terms / len(plain), 4),
            "identical_terms_and_positions": same_positions,
            "per_collection": {c: {"identical": v[0], "texts": v[1], "share": round(v[0] / v[1], 4)}
                               for c, v in per_collection.items()},
            "words": words,
            "differing_words_total": sum(classes.values()),
            "differing_words": dict(classes.most_common()),
            "examples": {k: [list(e) + [n] for e, n in examples[k].most_common(5)] for k in classes},
            "lucene_seconds": round(seconds, 1),
        }
    return report


def print_analysis(report: dict[str, Any]) -> None:
    print(f"\nAnalysis parity: {report['texts']:,} texts (every title and body)")
    print(f"{'folding filter':<15} {'identical terms':>16} {'share':>7}   per collection")
    for folding, r in report["foldings"].items():
        per = ", ".join(f"{c} {v['share']:.2%}" for c, v in r["per_collection"].items())
        print(f"{folding:<15} {r['identical_terms']:>16,} {r['identical_terms_share']:>7.2%}   {per}")
    for folding, r in report["foldings"].items():
        print(f"{folding}: {r['differing_words_total']:,} differing words of {r['words']:,} "
              f"({r['differing_words_total'] / r['words']:.3%})")
    for folding, r in report["foldings"].items():
        print(f"\n{folding}: differing words by class (word: frsearch term / Lucene term, occurrences)")
        for kind, count in r["differing_words"].items():
            top = "; ".join(f"{w!r}: {a} / {b} ({n})" for w, a, b, n in r["examples"][kind][:3])
            print(f"  {count:>7,}  {kind}\n           e.g. {top}")


# ---------------------------------------------------------------------------
# Ranking parity

VARIANTS = {
    # The words alone: field weights, question words dropped, no other lever.
    "lucene-or": {"proximity": False, "all_words": False, "typos": False},
    # The default translation without its typo clauses.
    "lucene-dsl-no-typos": {"typos": False},
    # to_query_dsl as it is by default.
    "lucene-dsl": {},
}


def ranking_parity(folder: Path, variants: list[str], max_queries: int | None,
                   options: frsearch.SearchOptions | None = None, frsearch_run: bool = True) -> dict[str, Any]:
    args = argparse.Namespace(collection=str(folder), corpus=None, queries=None, qrels=None, name=None)
    collection = quality.load_collection(args)
    queries = quality.select_queries(collection, max_queries)
    qids = [qid for qid, _ in queries]
    print(f"{collection.name}: {len(collection.docs):,} documents, {len(queries):,} judged queries",
          file=sys.stderr)
    results: dict[str, dict[str, Any]] = {}
    workdir = Path(tempfile.mkdtemp(prefix="frsearch-opensearch-bench-"))
    saved = tempfile.tempdir
    tempfile.tempdir = str(workdir)
    try:
        if frsearch_run:
            system = quality.FrsearchSystem("frsearch", frsearch.SearchOptions(), on_disk=False)
            print("running frsearch…", file=sys.stderr)
            ours = quality.run_system(system, collection, queries, str(workdir))
            results["frsearch"] = {"metrics": ours.means, "no_result": ours.no_result,
                                   "errors": len(ours.errors), "query_seconds": ours.query_seconds}
        with open(workdir / "docs.tsv", "w", encoding="utf-8") as handle:
            for d in collection.docs:
                handle.write(f"{lucene.clean(d['id'])}\t{lucene.clean(d['title'])}\t{lucene.clean(d['text'])}\n")
        jobs: list[str] = []
        errors: dict[str, int] = {}
        for name in variants:
            failed = 0
            with open(workdir / f"{name}.jsonl", "w", encoding="utf-8") as handle:
                for qid, text in queries:
                    try:
                        dsl = opensearch.to_query_dsl(text, options, **VARIANTS[name])
                    except frsearch.QueryError:
                        failed += 1
                        continue
                    handle.write(json.dumps({"qid": qid, "query": dsl}, ensure_ascii=False) + "\n")
            errors[name] = failed
            jobs += [str(workdir / f"{name}.jsonl"), str(workdir / f"{name}.run")]
        spec = lucene.lucene_spec(opensearch.index_body(options=options), workdir)
        classes = lucene.compile_bench(workdir)
        t0 = time.perf_counter()
        lucene.run_bench(classes, ["rank", str(spec), str(workdir / "docs.tsv"), *jobs])
        lucene_seconds = time.perf_counter() - t0
        for name in variants:
            run: dict[str, dict[str, float]] = defaultdict(dict)
            with open(workdir / f"{name}.run", encoding="utf-8") as handle:
                for line in handle:
                    qid, doc, score = line.rstrip("\n").split("\t")
                    run[qid][doc] = float(score)
            per_query = metrics.evaluate(run, collection.qrels, qids)
            results[name] = {"metrics": metrics.mean(per_query),
                             "no_result": sum(1 for q in qids if q not in run), "errors": errors[name],
                             "query_seconds": None}
        results["_lucene_seconds"] = round(lucene_seconds, 1)
    finally:
        tempfile.tempdir = saved
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return {"collection": collection.name, "documents": len(collection.docs), "queries": len(queries),
            "systems": results}


def print_ranking(report: dict[str, Any]) -> None:
    print(f"\n{report['collection']} ({report['documents']:,} docs, {report['queries']:,} queries)")
    print(f"{'system':<18} {'nDCG@10':>8} {'R@100':>7} {'MRR@10':>7} {'no-res':>6} {'errors':>6}")
    for name, r in report["systems"].items():
        if name.startswith("_"):
            continue
        m = r["metrics"]
        print(f"{name:<18} {m['nDCG@10']:>8.4f} {m['R@100']:>7.4f} {m['RR@10']:>7.4f} "
              f"{r['no_result']:>6} {r['errors']:>6}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    a = sub.add_parser("analysis", help="token streams of the exported analyzer against frsearch's")
    a.add_argument("collections", nargs="+", type=Path)
    a.add_argument("--folding", action="append", choices=sorted(lucene.FOLDINGS),
                   help="folding filters to try (default: all three)")
    r = sub.add_parser("ranking", help="BM25 in Lucene with the translated queries, next to frsearch")
    r.add_argument("collection", type=Path)
    r.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="default: all")
    r.add_argument("--max-queries", type=int, metavar="N")
    r.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                   help="a SearchOptions field for the translation (weights.title=1, k1=0.9...); "
                        "frsearch's own run keeps its defaults")
    r.add_argument("--no-frsearch", action="store_true", help="only the Lucene runs (for tuning)")
    args = parser.parse_args(argv)
    why = lucene.missing()
    if why:
        raise SystemExit(f"cannot run Lucene here: {why}")
    OUT.mkdir(parents=True, exist_ok=True)
    if args.what == "analysis":
        report = analysis_parity(args.collections, args.folding or list(lucene.FOLDINGS))
        print_analysis(report)
        path = OUT / "opensearch-analysis.json"
    else:
        report = ranking_parity(args.collection, args.variant or list(VARIANTS), args.max_queries,
                                quality.parse_options(args.option) if args.option else None,
                                not args.no_frsearch)
        print_ranking(report)
        path = OUT / f"opensearch-ranking-{report['collection']}.json"
    report["command"] = sys.argv if argv is None else argv
    report["date"] = time.strftime("%Y-%m-%d %H:%M:%S")
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
