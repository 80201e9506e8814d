"""Speed of documents: indexing a folder of mixed PDF, .docx and .odt files, and the cold start.

    python benchmarks/speed/documents.py [--corpus CORPUS] [--files 300] [--runs 3] [--cold-runs 10]
        [--baseline-commit f5107df]

Writes ``--files`` files (a third each PDF, Word, OpenDocument; each PDF about 6
pages) from the texts of ``--corpus`` (a corpus.jsonl[.gz], e.g.
/work/shared/bench-data/fr-legal-admin/corpus.jsonl.gz; the seeds without it)
into a temporary folder, then times, each a median of ``--runs``:

- ``frsearch index --rebuild FOLDER`` in a fresh process (the whole CLI run);
- reading each format in process (read_document per file), per file;

and the cold start of ``frsearch query`` (a fresh process, median of
``--cold-runs``) on that index, next to the same on the code of
``--baseline-commit`` (the code before the new readers; it is extracted with
git archive into a temporary folder, on the same texts as .txt files).
Prints a table, writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from benchlib import iter_corpus  # noqa: E402
from tests.docfiles import docx_bytes, odt_bytes, pdf_bytes  # noqa: E402

LINES_PER_PAGE = 48


def texts(corpus: str | None, count: int) -> list[tuple[str, str]]:
    """(title, text) pairs of at least 4,000 characters (short ones are joined)."""
    if corpus:
        docs = ((d.get("title") or "", d.get("text") or "") for d in iter_corpus(corpus))
    else:
        docs = ((p.stem, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "seeds").glob("*.txt")))
        docs = iter(list(docs) * (count // 5 + 1))
    out: list[tuple[str, str]] = []
    title, text = "", ""
    for t, body in docs:
        title = title or t
        text += "\n" + body
        if len(text) >= 4000:
            out.append((title, text[:20000]))
            title, text = "", ""
            if len(out) == count:
                break
    return out


def write_files(folder: Path, count: int, corpus: str | None) -> dict[str, int]:
    sizes = {"pdf": 0, "docx": 0, "odt": 0}
    for i, (title, text) in enumerate(texts(corpus, count)):
        paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
        kind = ("pdf", "docx", "odt")[i % 3]
        if kind == "pdf":
            lines = [line for p in paragraphs for line in textwrap.wrap(p, 95)]
            pages = [lines[j:j + LINES_PER_PAGE] for j in range(0, len(lines), LINES_PER_PAGE)]
            data = pdf_bytes(pages, title=title, author="Auteur Test", created="D:20240101")
        elif kind == "docx":
            data = docx_bytes(paragraphs, title=title, author="Auteur Test")
        else:
            data = odt_bytes(paragraphs, title=title, author="Auteur Test")
        (folder / f"doc{i:04d}.{kind}").write_bytes(data)
        (folder.parent / "txt" / f"doc{i:04d}.txt").write_text(f"{title}\n\n{text}", encoding="utf-8")
        sizes[kind] += 1
    return sizes


def timed(command: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> float:
    """Wall time of a child process; its CPU time (user + system) is appended to CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, cwd=cwd)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):  # 1: a query that found nothing
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode(errors='replace')}")
    return elapsed


CPU: list[float] = []
MODULES = "import sys, frsearch.cli; print(len(sys.modules))"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=None)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=10)
    parser.add_argument("--cold-query", default="indemnité de licenciement")
    parser.add_argument("--baseline-commit", default=None)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="frsearch-docs-"))
    try:
        docs = tmp / "docs"
        docs.mkdir()
        (tmp / "txt").mkdir()
        counts = write_files(docs, args.files, args.corpus)
        total_bytes = sum(p.stat().st_size for p in docs.iterdir())
        py = sys.executable
        index = str(tmp / "ix")
        build = [timed([py, "-m", "frsearch", "index", "--rebuild", "--index", index, str(docs)])
                 for _ in range(args.runs)]
        per_format: dict[str, float] = {}
        code = textwrap.dedent(f"""
            import sys, time, glob, statistics
            from frsearch.documents import read_document
            for kind in ("pdf", "docx", "odt"):
                files = sorted(glob.glob({str(docs)!r} + "/*." + kind))
                runs = []
                for _ in range({args.runs}):
                    t = time.perf_counter()
                    for f in files:
                        read_document(f)
                    runs.append((time.perf_counter() - t) / len(files))
                print(kind, statistics.median(runs))
        """)
        for line in subprocess.run([py, "-c", code], check=True, capture_output=True, text=True).stdout.splitlines():
            kind, value = line.split()
            per_format[kind] = float(value)
        cold_cmd = [py, "-m", "frsearch", "query", "--index", index, args.cold_query]
        subprocess.run(cold_cmd, capture_output=True)
        CPU.clear()
        cold = [timed(cold_cmd, cwd=str(tmp)) for _ in range(args.cold_runs)]
        cold_cpu = list(CPU)
        result = {
            "files": counts, "bytes": total_bytes, "build_seconds": build,
            "build_median": statistics.median(build), "read_ms_per_file": {k: v * 1000 for k, v in per_format.items()},
            "cold_query_ms": statistics.median(cold) * 1000, "cold_runs": [round(c * 1000, 1) for c in cold],
            "cold_query_cpu_ms": statistics.median(cold_cpu) * 1000,
        }
        if args.baseline_commit:
            base = tmp / "base"
            base.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline_commit, "frsearch"],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
            env = dict(os.environ, PYTHONPATH=str(base))
            base_index = str(tmp / "ix-base")
            subprocess.run([py, "-m", "frsearch", "index", "--index", base_index, str(tmp / "txt")],
                           check=True, capture_output=True, env=env, cwd=str(base))
            # The branch's query on the same .txt texts, so that only the code differs.
            txt_index = str(tmp / "ix-txt")
            subprocess.run([py, "-m", "frsearch", "index", "--index", txt_index, str(tmp / "txt")],
                           check=True, capture_output=True)
            base_cmd = [py, "-m", "frsearch", "query", "--index", base_index, args.cold_query]
            new_cmd = [py, "-m", "frsearch", "query", "--index", txt_index, args.cold_query]
            base_runs, new_runs, base_cpu, new_cpu = [], [], [], []
            for _ in range(args.cold_runs):  # interleaved, so that load on the machine hits both alike
                base_runs.append(timed(base_cmd, env=env, cwd=str(base)))
                base_cpu.append(CPU[-1])
                new_runs.append(timed(new_cmd, cwd=str(tmp)))
                new_cpu.append(CPU[-1])
            modules = [
                int(subprocess.run([py, "-c", MODULES], check=True, capture_output=True, text=True,
                                   env=e, cwd=c).stdout)
                for e, c in ((env, str(base)), (None, str(tmp)))
            ]
            result["baseline"] = {
                "commit": args.baseline_commit,
                "cold_query_ms": statistics.median(base_runs) * 1000,
                "cold_query_cpu_ms": statistics.median(base_cpu) * 1000,
                "branch_cold_query_ms_same_texts": statistics.median(new_runs) * 1000,
                "branch_cold_query_cpu_ms_same_texts": statistics.median(new_cpu) * 1000,
                "modules_after_import_frsearch_cli": {"baseline": modules[0], "branch": modules[1]},
            }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"files: {counts} ({total_bytes / 1e6:.1f} MB)")
    print(f"frsearch index --rebuild (whole process), median of {args.runs}: {result['build_median']:.2f} s "
          f"({sum(counts.values()) / result['build_median']:.0f} files/s)")
    for kind, ms in result["read_ms_per_file"].items():
        print(f"read_document .{kind}: {ms:.1f} ms a file")
    print(f"cold start of frsearch query on that index, median of {args.cold_runs}: {result['cold_query_ms']:.0f} ms "
          f"wall, {result['cold_query_cpu_ms']:.0f} ms CPU")
    if "baseline" in result:
        b = result["baseline"]
        print(f"cold start on the same texts as .txt: {b['commit']} {b['cold_query_ms']:.0f} ms wall, "
              f"{b['cold_query_cpu_ms']:.0f} ms CPU; this branch {b['branch_cold_query_ms_same_texts']:.0f} ms wall, "
              f"{b['branch_cold_query_cpu_ms_same_texts']:.0f} ms CPU")
        m = b["modules_after_import_frsearch_cli"]
        print(f"modules loaded by import frsearch.cli: {b['commit']} {m['baseline']}, this branch {m['branch']}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"documents-{stamp}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
