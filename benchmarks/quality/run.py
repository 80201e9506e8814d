"""Measure frsearch's retrieval quality on a French test collection.

    python benchmarks/quality/run.py /work/shared/bench-data/codedutravail-dev
    python benchmarks/quality/run.py --corpus c.jsonl --queries q.jsonl --qrels r.tsv --name mine

Indexes the corpus with frsearch's public API (``Index.add_documents``, one
commit), runs every judged query as typed, in the default query mode
(``Index.search``), and scores the hits with trec_eval's conventions (see
metrics.py). By default the same collection also goes through stock Whoosh
(BM25F, LanguageAnalyzer("fr"), OR of the query's words), the in-house
baseline. Writes a TREC run file per system and a JSON of the results to
--out, and prints a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import frsearch
import whoosh
from whoosh import query as wq
from whoosh.analysis import LanguageAnalyzer
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import RamStorage

sys.path.insert(0, str(Path(__file__).resolve().parent))
import metrics  # noqa: E402  (sits beside this script)

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results"
LIMIT = 100


# ---------------------------------------------------------------------------
# Collection


@dataclasses.dataclass
class Collection:
    """A corpus, its queries and its relevance judgments."""

    name: str
    docs: list[dict[str, str]]
    queries: list[tuple[str, str]]  # (qid, text) in file order
    qrels: metrics.Qrels


def read_jsonl(path: Path, keys: Sequence[str]) -> list[dict[str, str]]:
    """Objects of a JSON-lines file, checked to have ``keys`` (values made strings)."""
    out: list[dict[str, str]] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            item = json.loads(line)
            missing = [k for k in keys if k not in item]
            if missing:
                raise SystemExit(f"{path}:{number}: missing {', '.join(missing)}")
            out.append({k: "" if item[k] is None else str(item[k]) for k in keys})
    return out


def load_collection(args: argparse.Namespace) -> Collection:
    """The collection from a directory and/or explicit --corpus/--queries/--qrels."""
    folder = Path(args.collection) if args.collection else None
    paths = {}
    for kind, filename in (("corpus", "corpus.jsonl"), ("queries", "queries.jsonl"), ("qrels", "qrels.tsv")):
        given = getattr(args, kind)
        if given:
            paths[kind] = Path(given)
        elif folder is not None:
            paths[kind] = folder / filename
        else:
            raise SystemExit(f"give a collection directory or --{kind}")
        if not paths[kind].is_file():
            raise SystemExit(f"no such file: {paths[kind]}")
    name = args.name or (folder.resolve().name if folder else paths["corpus"].stem)
    docs = read_jsonl(paths["corpus"], ("id", "title", "text"))
    queries = [(q["id"], q["text"]) for q in read_jsonl(paths["queries"], ("id", "text"))]
    return Collection(name, docs, queries, metrics.read_qrels(paths["qrels"]))


def select_queries(collection: Collection, max_queries: int | None) -> list[tuple[str, str]]:
    """Judged queries; with ``max_queries``, a sample chosen by hash of the qid.

    Hashing the id (not taking the first N) spreads the sample over the file,
    and a query stays in or out of the sample whatever else the file holds.
    """
    judged = set(metrics.judged_queries(collection.qrels))
    chosen = [(qid, text) for qid, text in collection.queries if qid in judged]
    if max_queries is not None and max_queries < len(chosen):
        keep = set(sorted((q[0] for q in chosen), key=lambda q: hashlib.sha1(q.encode()).hexdigest())[:max_queries])
        chosen = [q for q in chosen if q[0] in keep]
    return chosen


# ---------------------------------------------------------------------------
# Systems


class SearchFailed(Exception):
    """A query the system refused (counted, scored as no result)."""


class FrsearchSystem:
    """frsearch through its public library API, in the default query mode."""

    def __init__(self, tag: str, options: frsearch.SearchOptions, on_disk: bool,
                 synonyms: str | None = None) -> None:
        self.tag = tag
        self.options = options
        self.on_disk = on_disk
        self.synonyms_path = synonyms
        self.synonyms = frsearch.load_synonyms(synonyms) if synonyms else None
        self.index: frsearch.Index | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "engine": f"frsearch {frsearch.__version__}",
            "storage": "disk" if self.on_disk else "memory",
            "options": dataclasses.asdict(self.options),
            "synonyms": self.synonyms_path,
        }

    def build(self, docs: list[dict[str, str]], workdir: str) -> None:
        self.index = frsearch.Index(os.path.join(workdir, "frsearch") if self.on_disk else None)
        self.index.add_documents({"id": d["id"], "title": d["title"], "body": d["text"]} for d in docs)

    def search(self, text: str, limit: int) -> list[tuple[str, float]]:
        assert self.index is not None
        # Index.search runs on index.engine(); give that engine our options.
        engine = self.index.engine()
        if engine.options is not self.options:
            engine.options = self.options
        try:
            results = self.index.search(text, limit=limit, snippets=False, synonyms=self.synonyms)
        except frsearch.QueryError as exc:
            raise SearchFailed(str(exc)) from None
        return [(hit.id, hit.score) for hit in results]


class WhooshBaseline:
    """Stock Whoosh: BM25F over title and body analyzed by LanguageAnalyzer("fr").

    The query is the OR of its analyzed words over both fields, built as
    Term queries rather than with MultifieldParser: the parser reads query
    syntax (a lone "?" or "*" becomes a wildcard over the whole lexicon,
    "title:" a field, AND/OR/NOT operators), which made questions slow and
    changed their meaning; a bag of words never fails.
    """

    tag = "whoosh-bm25f"

    def __init__(self) -> None:
        self.schema = Schema(
            id=ID(stored=True, unique=True),
            title=TEXT(analyzer=LanguageAnalyzer("fr")),
            body=TEXT(analyzer=LanguageAnalyzer("fr")),
        )
        self.searcher: Any = None

    def describe(self) -> dict[str, Any]:
        return {
            "engine": f"whoosh {whoosh.versionstring()}",
            "analyzer": 'LanguageAnalyzer("fr")',
            "scoring": "BM25F (defaults)",
            "query": "OR of the unique analyzed query words, each over title and body",
        }

    def build(self, docs: list[dict[str, str]], workdir: str) -> None:
        ix = RamStorage().create_index(self.schema)
        writer = ix.writer(limitmb=256)
        for d in docs:
            writer.add_document(id=d["id"], title=d["title"], body=d["text"])
        writer.commit()
        self.searcher = ix.searcher()

    def search(self, text: str, limit: int) -> list[tuple[str, float]]:
        words = list(dict.fromkeys(self.schema["body"].process_text(text, mode="query")))
        if not words:
            return []
        query = wq.Or([wq.Term(field, w) for w in words for field in ("title", "body")])
        return [(hit["id"], hit.score) for hit in self.searcher.search(query, limit=limit)]


# ---------------------------------------------------------------------------
# Running


@dataclasses.dataclass
class SystemResult:
    """What one system did on one collection."""

    tag: str
    description: dict[str, Any]
    rankings: dict[str, list[tuple[str, float]]]
    per_query: dict[str, dict[str, float]]
    means: dict[str, float]
    queries: int
    no_result: int
    errors: dict[str, str]
    index_seconds: float
    query_seconds: float
    query_times: dict[str, float]


def run_system(system: Any, collection: Collection, queries: list[tuple[str, str]], workdir: str) -> SystemResult:
    """Index the corpus, run the queries, score the run."""
    started = time.perf_counter()
    system.build(collection.docs, workdir)
    index_seconds = time.perf_counter() - started
    rankings: dict[str, list[tuple[str, float]]] = {}
    errors: dict[str, str] = {}
    times: dict[str, float] = {}
    for qid, text in queries:
        t0 = time.perf_counter()
        try:
            hits = system.search(text, LIMIT)
        except SearchFailed as exc:
            errors[qid] = str(exc)
            hits = []
        times[qid] = time.perf_counter() - t0
        if hits:
            scores = metrics.rank_preserving_scores([score for _doc, score in hits])
            rankings[qid] = [(doc, score) for (doc, _), score in zip(hits, scores)]
    run = {qid: dict(hits) for qid, hits in rankings.items()}
    per_query = metrics.evaluate(run, collection.qrels, [qid for qid, _ in queries])
    return SystemResult(
        tag=system.tag,
        description=system.describe(),
        rankings=rankings,
        per_query=per_query,
        means=metrics.mean(per_query),
        queries=len(queries),
        no_result=sum(1 for qid, _ in queries if qid not in rankings),
        errors=errors,
        index_seconds=index_seconds,
        query_seconds=sum(times.values()),
        query_times=times,
    )


def parse_options(pairs: Iterable[str]) -> frsearch.SearchOptions:
    """SearchOptions from ``name=value`` pairs; ``b.title=0.3`` sets one key of a dict field."""
    options = frsearch.SearchOptions()
    names = [f.name for f in dataclasses.fields(options)]
    for pair in pairs:
        name, eq, raw = pair.partition("=")
        name, _dot, key = name.strip().partition(".")
        if not eq or name not in names:
            raise SystemExit(f"--option {pair!r}: expected NAME=VALUE with NAME one of {', '.join(names)}")
        current = getattr(options, name)
        if isinstance(current, dict):
            if not key:
                raise SystemExit(f"--option {pair!r}: {name} is a dict, set one key as {name}.KEY=VALUE")
            setattr(options, name, {**current, key: _convert(raw, 0.0, pair)})
        else:
            setattr(options, name, _convert(raw, current, pair))
    return options


def _convert(raw: str, like: Any, pair: str) -> Any:
    raw = raw.strip()
    if isinstance(like, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise SystemExit(f"--option {pair!r}: expected true or false")
    try:
        return type(like)(raw) if isinstance(like, (int, float)) else raw
    except ValueError:
        raise SystemExit(f"--option {pair!r}: expected a {type(like).__name__}") from None


# ---------------------------------------------------------------------------
# Output


def write_outputs(out: Path, collection: Collection, queries: list[tuple[str, str]],
                  results: list[SystemResult], per_query: bool, argv: list[str]) -> list[Path]:
    """Run files, the JSON of results and optional per-query TSVs; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    texts = dict(queries)
    for result in results:
        path = out / f"{collection.name}.{result.tag}.run"
        metrics.write_run(path, result.rankings, result.tag)
        written.append(path)
        if per_query:
            path = out / f"{collection.name}.{result.tag}.perquery.tsv"
            with open(path, "w", encoding="utf-8") as handle:
                handle.write("qid\tndcg@10\trr@10\tr@10\tr@100\thits\terror\tquery\n")
                for qid, scores in result.per_query.items():
                    values = "\t".join(f"{scores[m]:.4f}" for m in metrics.MEASURES)
                    hits = len(result.rankings.get(qid, []))
                    error = "error" if qid in result.errors else ""
                    text = " ".join(texts[qid].split())
                    handle.write(f"{qid}\t{values}\t{hits}\t{error}\t{text}\n")
            written.append(path)
    report = {
        "collection": collection.name,
        "documents": len(collection.docs),
        "queries": len(queries),
        "command": argv,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "python": sys.version.split()[0],
        "systems": {
            r.tag: {
                **r.description,
                "metrics": {m: round(v, 4) for m, v in r.means.items()},
                "no_result": r.no_result,
                "query_errors": r.errors,
                "index_seconds": round(r.index_seconds, 2),
                "query_seconds": round(r.query_seconds, 2),
                "query_ms_median": round(1000 * statistics.median(r.query_times.values()), 2) if r.query_times else 0,
                "slowest": [
                    {"qid": qid, "ms": round(1000 * t, 1), "query": texts[qid]}
                    for qid, t in sorted(r.query_times.items(), key=lambda kv: -kv[1])[:5]
                ],
            }
            for r in results
        },
    }
    path = out / f"{collection.name}.{results[0].tag}.json"
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=2)
    written.append(path)
    return written


def format_table(results: list[SystemResult]) -> str:
    """One row per system: the four measures, failures, and timings."""
    header = f"{'system':<16} {'nDCG@10':>7} {'MRR@10':>7} {'R@10':>6} {'R@100':>6} " \
             f"{'no-res':>6} {'errors':>6} {'queries':>7} {'index s':>7} {'query s':>7} {'ms/q':>6}"
    lines = [header, "-" * len(header)]
    for r in results:
        m = r.means
        ms = 1000 * r.query_seconds / r.queries if r.queries else 0.0
        lines.append(
            f"{r.tag:<16} {m['nDCG@10']:>7.4f} {m['RR@10']:>7.4f} {m['R@10']:>6.4f} {m['R@100']:>6.4f} "
            f"{r.no_result:>6} {len(r.errors):>6} {r.queries:>7} {r.index_seconds:>7.1f} "
            f"{r.query_seconds:>7.1f} {ms:>6.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("collection", nargs="?", help="directory with corpus.jsonl, queries.jsonl and qrels.tsv")
    parser.add_argument("--corpus", help="corpus JSONL: {id, title, text} per line")
    parser.add_argument("--queries", help="queries JSONL: {id, text} per line")
    parser.add_argument("--qrels", help="qrels: qid<TAB>docid<TAB>rel per line (rel > 0 is relevant)")
    parser.add_argument("--name", help="collection name for output files (default: the directory's name)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default: {DEFAULT_OUT})")
    parser.add_argument("--max-queries", type=int, metavar="N", help="run a deterministic sample of N judged queries")
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                        help="also run stock Whoosh BM25F (default: yes)")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="a frsearch SearchOptions field, e.g. k1=1.0, coordination=0.5, b.title=0.3, "
                             "weights.title=3, all_words_first=false (repeatable)")
    parser.add_argument("--tag", default="frsearch", help="name of the frsearch run (default: frsearch)")
    parser.add_argument("--synonyms", metavar="FILE", default=None,
                        help="a synonyms file for frsearch's queries, as `frsearch query --synonyms` "
                             "(default: none; the published figures use none)")
    parser.add_argument("--on-disk", action="store_true", help="index frsearch on disk (temporary) instead of in memory")
    parser.add_argument("--per-query", action="store_true", help="also write a per-query TSV for each system")
    args = parser.parse_args(argv)
    if args.max_queries is not None and args.max_queries < 1:
        parser.error("--max-queries must be at least 1")

    options = parse_options(args.option)
    collection = load_collection(args)
    queries = select_queries(collection, args.max_queries)
    judged = set(metrics.judged_queries(collection.qrels))
    unjudged = sum(1 for qid, _ in collection.queries if qid not in judged)
    print(f"{collection.name}: {len(collection.docs):,} documents, {len(queries):,} judged queries run"
          + (f" ({unjudged} unjudged skipped)" if unjudged else ""), file=sys.stderr)

    systems: list[Any] = [FrsearchSystem(args.tag, options, args.on_disk, args.synonyms)]
    if args.baseline:
        systems.append(WhooshBaseline())
    # Stock Whoosh's RamStorage keeps temporary files in <tmp>/MAIN.tmp, one
    # folder for every process, and empties it at each commit: a private
    # temporary folder keeps other processes' indexing from breaking the
    # baseline (frsearch's own in-memory storage already has one).
    workdir = tempfile.mkdtemp(prefix="frsearch-quality-")
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = workdir
    results = []
    try:
        for system in systems:
            print(f"running {system.tag}…", file=sys.stderr)
            results.append(run_system(system, collection, queries, workdir))
    finally:
        tempfile.tempdir = saved_tempdir
        shutil.rmtree(workdir, ignore_errors=True)

    written = write_outputs(args.out, collection, queries, results, args.per_query, sys.argv if argv is None else argv)
    print(f"\n{collection.name} ({len(collection.docs):,} docs, {len(queries):,} queries)")
    print(format_table(results))
    for r in results:
        for qid, message in list(r.errors.items())[:5]:
            print(f"  {r.tag} query error {qid}: {message}")
    print("\nwrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
