"""Speed harness: frsearch against stock Whoosh on one corpus, in one run.

Measures index build (wall, CPU, docs/s, MB of text/s, peak RSS, size on disk),
query latency (p50/p95/mean, with and without snippets), the cold start of a
``frsearch query`` process, and (with --files) ``frsearch index`` over the
documents written as files: a full build, then a re-run with nothing changed.

    python benchmarks/speed/run.py CORPUS [--max-docs N] [--copies N] [--out DIR] [--no-files] [--no-whoosh]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import DEFAULT_QUERIES, HERE, dir_size, load_corpus, load_queries, summarize  # noqa: E402

REPO = HERE.parent.parent
WORKER = HERE / "worker.py"
MB = 1_000_000

# Stock-Whoosh equivalent of one `frsearch query` process: open, parse, top 10, highlights, print.
WHOOSH_COLD = """
import sys
from whoosh import index
from whoosh.qparser import MultifieldParser, {group}
ix = index.open_dir(sys.argv[1])
with ix.searcher() as searcher:
    q = MultifieldParser(["title", "body"], ix.schema, group={group}).parse(sys.argv[2])
    for hit in searcher.search(q, limit=10):
        print(hit["id"], hit["title"], hit.highlights("body"))
"""


# -- processes -------------------------------------------------------------------


def run_timed(
    cmd: Sequence[str], stdout: Any = subprocess.DEVNULL, stderr: Any = None, cwd: str | None = None
) -> dict[str, Any]:
    """Run a command; its wall time, exit code, CPU time and peak RSS (from wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=stdout, stderr=stderr, cwd=cwd)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": wall,
        "returncode": proc.returncode,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_kb": usage.ru_maxrss,  # kB on Linux
    }


def systems(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """(name, worker engine, Python) of each system timed: frsearch as installed for this
    Python, the --baseline-python one (an older frsearch in its own environment), Whoosh."""
    out = [("frsearch", "frsearch", sys.executable)]
    if args.baseline_python:
        out.insert(0, ("base", "frsearch", args.baseline_python))
    return out + ([] if args.no_whoosh else [("whoosh", "whoosh", sys.executable)])


def run_worker(task: str, engine: str, index_dir: str, work: str, extra: list[str],
               tag: str = "", name: str | None = None, python: str = sys.executable) -> dict[str, Any]:
    """Run worker.py in a child process and return its JSON result plus wait4 numbers."""
    result_file = os.path.join(work, f"{task}-{name or engine}{tag and '-' + tag}.json")
    cmd = [python, str(WORKER), task, "--engine", engine, "--index", index_dir,
           "--result", result_file, *extra]
    outer = run_timed(cmd, stdout=None)
    if outer["returncode"] != 0:
        raise SystemExit(f"worker {task} {engine} failed with exit code {outer['returncode']}")
    result = json.loads(Path(result_file).read_text(encoding="utf-8"))
    result["process"] = outer
    return result


def median_run(cmd: Sequence[str], runs: int, cwd: str | None = None) -> dict[str, Any]:
    """Median wall time of ``runs`` runs of a command (plus all the times); output discarded."""
    runs_out = [run_timed(cmd, stderr=subprocess.DEVNULL, cwd=cwd) for _ in range(runs)]
    codes = sorted({r["returncode"] for r in runs_out})
    if any(code not in (0, 1) for code in codes):  # frsearch query: 0 found, 1 nothing found
        print(f"warning: {cmd[:3]} exited with {codes}", file=sys.stderr)
    times = [r["seconds"] for r in runs_out]
    return {"median": statistics.median(times), "min": min(times), "runs": times, "exit_codes": codes}


# -- machine ---------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, memory, Python and library versions, load, git commit."""
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    def pkg(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "frsearch": pkg("frsearch"),
        "whoosh": pkg("whoosh-reloaded") or pkg("whoosh"),
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_dirty_files": len((git("status", "--porcelain", "--", "frsearch") or "").splitlines()),
        "load_avg_start": os.getloadavg(),
    }


# -- the parts -------------------------------------------------------------------


def part_build(args: argparse.Namespace, work: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Build each engine's index in its own child process."""
    out, dirs = {}, {}
    extra = ["--corpus", args.corpus, "--copies", str(args.copies)]
    extra += ["--max-docs", str(args.max_docs)] if args.max_docs else []
    for name, engine, python in systems(args):
        index_dir = os.path.join(work, f"index-{name}")
        os.makedirs(index_dir)
        print(f"building {name} index ...", file=sys.stderr, flush=True)
        result = run_worker("build", engine, index_dir, work, extra, name=name, python=python)
        result["index_bytes"] = dir_size(index_dir)
        result["docs_per_s"] = result["docs"] / result["seconds"]
        result["text_mb_per_s"] = result["text_bytes"] / MB / result["seconds"]
        out[name], dirs[name] = result, index_dir
    return out, dirs


def part_query(args: argparse.Namespace, work: str, dirs: dict[str, str]) -> dict[str, Any]:
    """Query latency on each built index: one child process per engine and mode, and
    --query-runs rounds of these, each query's times the median of its times in each round."""
    rounds: dict[str, dict[str, list[dict[str, Any]]]] = {
        name: {"plain": [], "snippets": []} for name, _engine, _python in systems(args)
    }
    for n in range(args.query_runs):
        for mode in ("plain", "snippets"):  # the systems in turn for each mode: alike in the load they meet
            for name, engine, python in systems(args):
                print(f"timing queries on {name} ({mode}) ...", file=sys.stderr, flush=True)
                extra = ["--queries", args.queries, "--repeat", str(args.repeat), "--group", args.whoosh_group,
                         "--mode", mode]
                rounds[name][mode].append(
                    run_worker("query", engine, dirs[name], work, extra, tag=f"{mode}-{n}", name=name, python=python))
    return {name: {mode: merge_rounds(found) for mode, found in modes.items()} for name, modes in rounds.items()}


def merge_rounds(found: list[dict[str, Any]]) -> dict[str, Any]:
    """One query part's result from the results of several rounds (processes): each query's
    first-run, CPU and repeated times are the medians of its times in the rounds, and the
    summaries are made again from these; the open and first-query times are medians too."""
    if len(found) == 1:
        return found[0]
    out = dict(found[0])
    rows = []
    for i, row in enumerate(found[0]["per_query"]):
        same = [result["per_query"][i] for result in found]
        merged = dict(row)
        for key in ("first", "first_cpu", "repeat"):
            if all(key in r for r in same):
                merged[key] = statistics.median(r[key] for r in same)
        rows.append(merged)
    out["per_query"] = rows
    out["rounds"] = len(found)
    for key in ("open_seconds", "first_query_seconds"):
        out[key] = statistics.median(result[key] for result in found)
    out["first"] = summarize([r["first"] for r in rows])
    out["first_cpu"] = summarize([r["first_cpu"] for r in rows])
    out["repeated"] = summarize([r["repeat"] for r in rows])
    out["peak_rss_kb"] = max(result["peak_rss_kb"] for result in found)
    out["errors"] = max(result["errors"] for result in found)
    return out


def part_cold(args: argparse.Namespace, dirs: dict[str, str]) -> dict[str, Any]:
    """Whole-process times: one query from start to exit, and bare imports."""
    print("timing cold starts ...", file=sys.stderr, flush=True)
    group = "OrGroup" if args.whoosh_group == "or" else "AndGroup"
    py = sys.executable
    # Run from the indexes' folder: `python -c "import frsearch"` in a source checkout would
    # import the checkout instead of the install (and compile it each time where bytecode is not written).
    where = os.path.dirname(dirs["frsearch"])
    commands = {
        "frsearch_query": [frsearch_command(), "query", "--index", dirs["frsearch"], args.cold_query],
        "frsearch_import": [py, "-c", "import frsearch"],
        "python_startup": [py, "-c", "pass"],
    }
    if not args.no_whoosh:
        commands["whoosh_query"] = [py, "-c", WHOOSH_COLD.format(group=group), dirs["whoosh"], args.cold_query]
        commands["whoosh_import"] = [py, "-c", "import whoosh.index, whoosh.qparser, whoosh.analysis"]
    if args.baseline_python:
        base = args.baseline_python
        commands["base_query"] = [frsearch_command(base), "query", "--index", dirs["base"], args.cold_query]
        commands["base_import"] = [base, "-c", "import frsearch"]
    # One process of each command in turn, args.cold_runs times: alike in the load they meet.
    runs = {key: [] for key in commands}
    for _ in range(args.cold_runs):
        for key, cmd in commands.items():
            runs[key].append(median_run(cmd, 1, where))
    out: dict[str, Any] = {"query": args.cold_query, "runs": args.cold_runs}
    for key, found in runs.items():
        times = [r["runs"][0] for r in found]
        codes = sorted({code for r in found for code in r["exit_codes"]})
        out[key] = {"median": statistics.median(times), "min": min(times), "runs": times, "exit_codes": codes}
    return out


def frsearch_command(python: str = sys.executable) -> str:
    """The frsearch console script next to a Python, else the one on PATH."""
    local = Path(python).parent / "frsearch"
    return str(local) if local.exists() else (shutil.which("frsearch") or "frsearch")


def write_files(corpus: str, max_docs: int | None, folder: str, copies: int = 1) -> tuple[int, int]:
    """Write documents as .txt files (title line, blank line, text), 1000 a sub-folder; with
    ``copies``, the corpus that many times (as load_corpus gives it)."""
    count = size = 0
    for n, doc in enumerate(load_corpus(corpus, max_docs, copies)):
        sub = os.path.join(folder, f"{n // 1000:03d}")
        if n % 1000 == 0:
            os.makedirs(sub, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", doc["id"])[:80]
        data = f"{doc['title']}\n\n{doc['text']}\n".encode("utf-8")
        with open(os.path.join(sub, f"{n:06d}-{name}.txt"), "wb") as handle:
            handle.write(data)
        count += 1
        size += len(data)
    return count, size


def part_files(args: argparse.Namespace, work: str) -> dict[str, Any]:
    """`frsearch index` over files: a full build, then a re-run with nothing changed."""
    folder, index_dir = os.path.join(work, "files"), os.path.join(work, "index-files")
    print("writing documents as files ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    count, size = write_files(args.corpus, args.max_docs, folder, args.copies)
    out: dict[str, Any] = {"files": count, "bytes": size, "write_seconds": time.perf_counter() - t0}
    cmd = [frsearch_command(), "index", "--index", index_dir, "--quiet", folder]
    for key in ("full", "nochange"):
        print(f"frsearch index ({key}) ...", file=sys.stderr, flush=True)
        log = os.path.join(work, f"files-{key}.out")
        with open(log, "wb") as handle:
            out[key] = run_timed(cmd, stdout=handle)
        out[key]["summary"] = Path(log).read_text(encoding="utf-8", errors="replace").strip()
    out["index_bytes"] = dir_size(index_dir)
    return out


# -- report ----------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else ""


def _fmt(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def print_table(res: dict[str, Any]) -> None:
    """Engines side by side, with a frsearch/whoosh ratio column (and with --baseline-python,
    the baseline frsearch and a frsearch/baseline ratio)."""
    m = res["machine"]
    print(f"\nmachine: {m['cores']} cores ({m['usable_cores']} usable), {m['cpu_model']}, "
          f"{m['memory_gb']} GB, Python {m['python']}, whoosh {m['whoosh']}, frsearch {m['frsearch']} "
          f"({m['git_commit']}, {m['git_dirty_files']} changed files in frsearch/); "
          f"load {m['load_avg_start'][0]:.2f} at start, {res['load_avg_end'][0]:.2f} at end")
    if res.get("baseline_python"):
        print(f"baseline: frsearch as installed for {res['baseline_python']}")
    b = res.get("build")
    if b:
        f = b["frsearch"]
        copies = f" (the corpus {res['copies']} times, fresh ids)" if res.get("copies", 1) > 1 else ""
        print(f"corpus: {res['corpus']}{copies}  {f['docs']:,} docs, {f['text_bytes'] / MB:.1f} MB of text")
    rows = _rows(res, "frsearch")
    base = _rows(res, "base") if res.get("baseline_python") else None
    head = f"{'':36} {'frsearch':>12} {'whoosh':>12} {'ratio f/w':>10}"
    print("\n" + head + (f" {'baseline':>12} {'f/base':>8}" if base else ""))
    for i, row in enumerate(rows):
        if isinstance(row, str):
            print(row)
            continue
        label, a, bb, digits = row
        line = f"  {label:34} {_fmt(a, digits):>12} {_fmt(bb, digits):>12} {_ratio(a, bb):>10}"
        if base:
            other = base[i]
            assert not isinstance(other, str)
            line += f" {_fmt(other[1], digits):>12} {_ratio(a, other[1]):>8}"
        print(line)
    fl = res.get("files")
    if fl:
        print(f"  (full: {fl['full']['summary']!r}; no change: {fl['nochange']['summary']!r})")


def _rows(res: dict[str, Any], name: str) -> list[tuple[str, float | None, float | None, int] | str]:
    """The table's rows for one frsearch (``name``: frsearch or base) next to Whoosh."""
    rows: list[tuple[str, float | None, float | None, int] | str] = []
    # Without Whoosh (--no-whoosh), frsearch's own figures stand in for its column, then blanked.
    no_whoosh = bool(res.get("no_whoosh"))
    b = res.get("build")
    if b:
        f, w = b[name], b.get("whoosh", b[name])
        rows.append("index build (own process each, on disk)")
        for label, key, scale, digits in (
            ("wall time (s)", "seconds", 1, 1),
            ("CPU time, main process (s)", "cpu_seconds", 1, 1),
            ("CPU time, writer subprocesses (s)", "children_cpu_seconds", 1, 1),
            ("documents/s", "docs_per_s", 1, 0),
            ("MB of text/s", "text_mb_per_s", 1, 2),
        ):
            rows.append((label, f[key] * scale, w[key] * scale, digits))
        rows.append(("peak memory, all processes (Pss, MB)", (f["tree_peak_rss_kb"] or 0) * 1024 / MB,
                     (w["tree_peak_rss_kb"] or 0) * 1024 / MB, 0))
        rows.append(("  peak RSS, main process, VmHWM (MB)", f["peak_rss_kb"] * 1024 / MB,
                     w["peak_rss_kb"] * 1024 / MB, 0))
        rows.append(("  RSS before build (MB)", f["rss_before_kb"] * 1024 / MB,
                     w["rss_before_kb"] * 1024 / MB, 0))
        rows.append(("index size on disk (MB)", f["index_bytes"] / MB, w["index_bytes"] / MB, 1))
    q = res.get("query")
    if q:
        f, w = q[name], q.get("whoosh", q[name])
        fp = f["plain"]
        group = "" if no_whoosh else f"; whoosh {w['plain']['group'].upper()} group"
        rounds = f"; each query's median of {fp['rounds']} processes" if fp.get("rounds") else ""
        rows.append(f"queries ({fp['queries']}, top 10{group}{rounds}) (ms)")
        for which, name in (("first", "first run of each query"),
                            ("repeated", f"median of {fp['repeat']} repeats of each query")):
            rows.append(f"  {name}")
            for mode in ("plain", "snippets"):
                label = "no snippets" if mode == "plain" else "with snippets"
                for stat in ("p50", "p95", "mean"):
                    rows.append((f"  {label} {stat}", f[mode][which][stat] * 1000,
                                 w[mode][which][stat] * 1000, 1))
        rows.append(("  CPU mean, first run, snippets", f["snippets"]["first_cpu"]["mean"] * 1000,
                     w["snippets"]["first_cpu"]["mean"] * 1000, 1))
        fs, ws = f["snippets"], w["snippets"]
        rows.append(("index open (ms)", fs["open_seconds"] * 1000, ws["open_seconds"] * 1000, 1))
        rows.append(("first query after open (ms)", fs["first_query_seconds"] * 1000,
                     ws["first_query_seconds"] * 1000, 1))
        rows.append(("query process peak RSS (MB)", fs["peak_rss_kb"] * 1024 / MB,
                     ws["peak_rss_kb"] * 1024 / MB, 0))
        rows.append(("queries with 0 hits", fs["zero_hits"], ws["zero_hits"], 0))
        rows.append(("queries that raised an error", fs["errors"], ws["errors"], 0))
    c = res.get("cold")
    if c:
        rows.append(f"cold start, median of {c['runs']} processes (ms)")
        prefix = "base" if name == "base" else "frsearch"
        rows.append(("query process, start to exit", c[f"{prefix}_query"]["median"] * 1000,
                     c.get("whoosh_query", c[f"{prefix}_query"])["median"] * 1000, 0))
        rows.append(("python -c 'import ...'", c[f"{prefix}_import"]["median"] * 1000,
                     c.get("whoosh_import", c[f"{prefix}_import"])["median"] * 1000, 0))
        rows.append(("python -c pass", c["python_startup"]["median"] * 1000, None, 0))
    fl = res.get("files")
    if fl and name == "frsearch":
        rows.append(f"frsearch index over {fl['files']:,} .txt files ({fl['bytes'] / MB:.1f} MB; "
                    f"written in {fl['write_seconds']:.1f} s)")
        for key, name in (("full", "full build"), ("nochange", "no-change re-run")):
            rows.append((f"{name} wall (s)", fl[key]["seconds"], None, 2))
            rows.append((f"{name} peak RSS (MB)", fl[key]["peak_rss_kb"] * 1024 / MB, None, 0))
        rows.append(("index size on disk (MB)", fl["index_bytes"] / MB, None, 1))
    if no_whoosh:
        rows = [row if isinstance(row, str) else (row[0], row[1], None, row[3]) for row in rows]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="frsearch vs stock Whoosh speed harness.")
    parser.add_argument("corpus", help="corpus.jsonl or corpus.jsonl.gz, one {id,title,text} a line")
    parser.add_argument("--max-docs", type=int, default=None, help="only the first N documents")
    parser.add_argument("--copies", type=int, default=1,
                        help="index the corpus N times over, each copy with fresh ids (a collection N "
                        "times larger with the same words: how query cost grows with the collection)")
    parser.add_argument("--no-whoosh", dest="no_whoosh", action="store_true",
                        help="leave stock Whoosh out (its build and queries take long on large corpora)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"),
                        help="folder of the JSON result (default: benchmarks/results/)")
    parser.add_argument("--files", action=argparse.BooleanOptionalAction, default=True,
                        help="also time `frsearch index` over the documents as files (default: on)")
    parser.add_argument("--queries", default=str(DEFAULT_QUERIES), help="queries file, one a line")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each query (median taken)")
    parser.add_argument("--query-runs", type=int, default=1,
                        help="processes timing the queries, per engine and mode, in turn (each query's "
                             "median kept: a first run is one sample a process)")
    parser.add_argument("--cold-runs", type=int, default=5, help="processes for the cold-start times")
    parser.add_argument("--cold-query", default="indemnité de licenciement faute grave",
                        help="query of the cold-start runs")
    parser.add_argument("--whoosh-group", choices=("or", "and"), default="or",
                        help="Whoosh parser default group (default: or, as frsearch's free words)")
    parser.add_argument("--tmp", default=None, help="where the temporary indexes and files go")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--baseline-python", default=None,
                        help="a Python whose environment has another frsearch installed (an older "
                        "commit): timed too, in turn with this one, in a baseline column")
    args = parser.parse_args(argv)
    if len(load_queries(args.queries)) < 1:
        parser.error("no queries")

    work = tempfile.mkdtemp(prefix="frsearch-speed-", dir=args.tmp)
    res: dict[str, Any] = {
        "corpus": os.path.abspath(args.corpus),
        "max_docs": args.max_docs,
        "copies": args.copies,
        "no_whoosh": args.no_whoosh,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine_info(),
        "baseline_python": args.baseline_python,
    }
    try:
        res["build"], dirs = part_build(args, work)
        res["query"] = part_query(args, work, dirs)
        res["cold"] = part_cold(args, dirs)
        if args.files:
            res["files"] = part_files(args, work)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    res["load_avg_end"] = os.getloadavg()
    print_table(res)
    os.makedirs(args.out, exist_ok=True)
    tag = (f"{args.max_docs}" if args.max_docs else "all") + (f"-x{args.copies}" if args.copies > 1 else "")
    out_file = os.path.join(args.out, f"speed-{tag}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    Path(out_file).write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwrote {out_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
