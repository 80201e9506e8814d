"""How soon a changed file is searchable under ``frsearch index --watch``, and how a burst is batched.

    python benchmarks/speed/watch_latency.py [--samples 10] [--burst 2000]

Runs frsearch.watch.watch_paths in a thread on a temporary folder; then, one at
a time, writes a new file and polls a separate Index until a search finds it
(latency: write to searchable, median and worst), and finally writes
``--burst`` files as fast as it can and counts the syncs (commits) they took.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from frsearch import Index
from frsearch.watch import watch_paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--burst", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        (folder / "start.txt").write_text("Début.", encoding="utf-8")
        index_dir = Path(tmp) / "ix"
        writer = Index(index_dir)
        writer.index_paths([str(folder)])
        stop = threading.Event()
        syncs: list[float] = []
        thread = threading.Thread(target=watch_paths, args=(writer, [str(folder)]),
                                  kwargs={"stop_event": stop, "on_sync": lambda r: syncs.append(time.monotonic())})
        thread.start()
        time.sleep(1.0)
        latencies = []
        with Index.open(index_dir) as reader:
            for i in range(args.samples):
                word = f"motunique{i}x"
                started = time.monotonic()
                (folder / f"f{i}.txt").write_text(f"Un texte avec {word}.", encoding="utf-8")
                while not reader.search(word).hits:
                    time.sleep(0.02)
                    if time.monotonic() - started > 30:
                        raise SystemExit("not searchable after 30 s")
                latencies.append(time.monotonic() - started)
                time.sleep(0.5)
            before = len(syncs)
            started = time.monotonic()
            burst = folder / "burst"
            burst.mkdir()
            for i in range(args.burst):
                (burst / f"b{i:05d}.txt").write_text(f"Fichier {i} de la rafale méduse.", encoding="utf-8")
            written = time.monotonic() - started
            while reader.search("méduse").total < args.burst:
                time.sleep(0.1)
                if time.monotonic() - started > 300:
                    raise SystemExit("burst not indexed after 300 s")
            done = time.monotonic() - started
        stop.set()
        thread.join()
        writer.close()
    print(f"write to searchable, {args.samples} files one at a time: median {statistics.median(latencies):.2f} s, "
          f"worst {max(latencies):.2f} s")
    print(f"burst of {args.burst} files (written in {written:.1f} s): {len(syncs) - before} syncs, all searchable "
          f"{done:.1f} s after the first write")


if __name__ == "__main__":
    main()
