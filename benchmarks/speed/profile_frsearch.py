"""Profile frsearch with cProfile: one index build, then the query set.

Writes, under --out (default benchmarks/results/): profile-build.txt and
profile-query.txt (top functions by cumulative and by own time), plus the raw
.prof files for pstats/snakeviz.

    python benchmarks/speed/profile_frsearch.py CORPUS [--max-docs 5000] [--top 25]
    python benchmarks/speed/profile_frsearch.py --index DIR   # queries only, on a built index
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import DEFAULT_QUERIES, HERE, load_corpus, load_queries, text_bytes  # noqa: E402


def report(profile: cProfile.Profile, title: str, top: int) -> str:
    """Header plus the top functions by cumulative time and by own (tottime) time."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    out.write(f"{title}\nprofiled total own time: {total:.2f} s\n\n")
    for key in ("cumulative", "tottime"):
        out.write(f"==== top {top} by {key} ====\n")
        stats.sort_stats(key).print_stats(top)
    return out.getvalue()


def profile_queries(path: str, queries: list[str], repeat: int, top: int, ndocs: int, out: str,
                    suffix: str) -> None:
    """Profile ``repeat`` passes over the queries, each with and without snippets."""
    import frsearch

    index = frsearch.Index.open(path)
    for q in queries[:5]:
        index.search(q, limit=10)  # warm-up (lengths columns, caches) outside the profile
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(repeat):
        for q in queries:
            index.search(q, limit=10, snippets=False)
            index.search(q, limit=10, snippets=True)
    prof.disable()
    wall = time.perf_counter() - t0
    index.close()
    prof.dump_stats(os.path.join(out, f"profile-query{suffix}.prof"))
    title = (f"frsearch queries: {len(queries)} queries x {repeat} passes x "
             f"(snippets=False, snippets=True) on {ndocs} docs, {wall:.1f} s wall under cProfile")
    Path(out, f"profile-query{suffix}.txt").write_text(report(prof, title, top), encoding="utf-8")
    print(f"wrote {out}/profile-query{suffix}.txt")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cProfile frsearch indexing and querying.")
    parser.add_argument("corpus", nargs="?", help="corpus.jsonl[.gz] (for the build profile)")
    parser.add_argument("--index", default=None,
                        help="profile only the queries, on this existing frsearch index")
    parser.add_argument("--max-docs", type=int, default=5000)
    parser.add_argument("--queries", default=str(DEFAULT_QUERIES))
    parser.add_argument("--repeat", type=int, default=3, help="passes over the query set")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", default=str(HERE.parent / "results"))
    args = parser.parse_args(argv)
    if not args.corpus and not args.index:
        parser.error("give a CORPUS or --index DIR")

    import frsearch

    queries = load_queries(args.queries)
    os.makedirs(args.out, exist_ok=True)
    if args.index:
        ndocs = len(frsearch.Index.open(args.index))
        profile_queries(args.index, queries, args.repeat, args.top, ndocs, args.out, f"-{ndocs}")
        return 0
    docs = load_corpus(args.corpus, args.max_docs)
    work = tempfile.mkdtemp(prefix="frsearch-profile-")
    try:
        path = os.path.join(work, "index")
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        index = frsearch.Index(path)
        index.add_documents({"id": d["id"], "title": d["title"], "body": d["text"]} for d in docs)
        index.close()
        prof.disable()
        wall = time.perf_counter() - t0
        prof.dump_stats(os.path.join(args.out, "profile-build.prof"))
        title = (f"frsearch build: {len(docs)} docs, {text_bytes(docs) / 1e6:.1f} MB of text, "
                 f"{wall:.1f} s wall under cProfile")
        Path(args.out, "profile-build.txt").write_text(report(prof, title, args.top), encoding="utf-8")

        profile_queries(path, queries, args.repeat, args.top, len(docs), args.out, "")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {args.out}/profile-build.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
