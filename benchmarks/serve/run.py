"""Load check of `frsearch serve`: many concurrent clients searching one index through the JSON API.

    python benchmarks/serve/run.py ../shared/bench-data/fr-legal-admin/corpus.jsonl.gz

Builds an index of the corpus (once; reused while it exists, see --index), starts
`frsearch serve` on a free loopback port in a process of its own, then runs CLIENTS
threads that each make SEARCHES requests to /api/search (10 hits with snippets, as the
page asks), one after the other, with the queries of benchmarks/speed/queries.txt.
Prints a table and writes benchmarks/results/serve.json: requests, errors (any answer
other than 200 with a JSON body, or a failed connection), latency p50/p95/max as each
client saw it (queueing included), and requests a second.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent / "speed"))

from benchlib import iter_corpus, load_queries, percentile  # noqa: E402


def build(corpus: str, where: Path, max_docs: int | None) -> float:
    import frsearch

    started = time.monotonic()
    with frsearch.Index(where) as index:
        index.add_documents({"id": d["id"], "title": d["title"], "body": d["text"]}
                            for d in iter_corpus(corpus, max_docs))
        count = len(index)
    seconds = time.monotonic() - started
    print(f"built {where}: {count} documents in {seconds:.1f} s", file=sys.stderr)
    return seconds


def start_server(where: Path) -> tuple[subprocess.Popen[str], str, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "frsearch", "serve", "--index", str(where), "--port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    if " at http://" not in line:
        process.kill()
        raise SystemExit(f"the server did not start: {line}{process.stderr.read()}")
    url = line.split(" at ", 1)[1].split(" ", 1)[0]
    host, port = url[len("http://"):].rstrip("/").rsplit(":", 1)
    return process, host, int(port)


def get(host: str, port: int, target: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        connection.request("GET", target)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def client(host: str, port: int, queries: list[str], first: int, searches: int, start: threading.Event,
           latencies: list[float], errors: list[str]) -> None:
    start.wait()
    for n in range(searches):
        q = queries[(first + n) % len(queries)]
        target = "/api/search?limit=10&q=" + quote(q)
        began = time.perf_counter()
        try:
            status, body = get(host, port, target)
            if status != 200:
                errors.append(f"{status} {q}")
            else:
                json.loads(body)["total"]
        except Exception as exc:  # noqa: BLE001 - every failure is counted
            errors.append(f"{type(exc).__name__}: {exc} ({q})")
        latencies.append(time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--index", default=str(ROOT / "benchmarks" / "results" / "serve-index"),
                        help="index folder, built from the corpus when it does not exist")
    parser.add_argument("--max-docs", type=int, default=None, help="index only the first N documents")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--searches", type=int, default=20, help="searches each client makes")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "serve.json"))
    args = parser.parse_args()

    where = Path(args.index)
    build_seconds = None
    if not where.exists():
        build_seconds = build(args.corpus, where, args.max_docs)
    queries = load_queries()
    server, host, port = start_server(where)
    try:
        warm = time.perf_counter()
        status, body = get(host, port, "/api/search?q=" + quote(queries[0]))  # opens the engine
        warm = time.perf_counter() - warm
        assert status == 200, body[:200]
        documents = json.loads(get(host, port, "/api/stats")[1])["documents"]
        latencies: list[float] = []
        errors: list[str] = []
        start = threading.Event()
        threads = [
            threading.Thread(target=client, args=(host, port, queries, i * 7, args.searches, start, latencies, errors))
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        began = time.perf_counter()
        start.set()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        alive = server.poll() is None
    finally:
        server.terminate()
        server.communicate(timeout=30)
    result = {
        "corpus": args.corpus,
        "documents": documents,
        "clients": args.clients,
        "searches_per_client": args.searches,
        "requests": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:10],
        "server_alive_after": alive,
        "first_search_ms": round(warm * 1000, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 50) * 1000, 1),
            "p95": round(percentile(latencies, 95) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "requests_per_second": round(len(latencies) / wall, 1),
        "wall_seconds": round(wall, 2),
        "build_seconds": round(build_seconds, 1) if build_seconds else None,
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    lat = result["latency_ms"]
    print(f"| documents | clients × searches | errors | p50 | p95 | max | requests/s |")
    print(f"|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {documents} | {args.clients} × {args.searches} = {len(latencies)} | {len(errors)} | "
          f"{lat['p50']} ms | {lat['p95']} ms | {lat['max']} ms | {result['requests_per_second']} |")
    print(f"first search (opens the engine): {result['first_search_ms']} ms; {result['machine']}")
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
