"""pypdf next to pdfminer.six on French PDFs: what each extracts, how fast, import cost.

    pip install pdfminer.six   # only for this comparison; frsearch uses pypdf
    python benchmarks/speed/pdf_libraries.py [--corpus CORPUS] [--files 60] [--runs 3]

The PDFs are generated (tests/docfiles.py): one with the French traps
(ligature glyphs, a word cut at a line end, narrow no-break spaces, curly
apostrophes), and ``--files`` PDFs of about six pages from the corpus texts.
Prints the raw text each library gives for the traps (before frsearch's
repair), the median time to extract all pages of all files, the median time
to import each library in a fresh process, and whether both give the same words.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
sys.path.insert(0, str(HERE))

from documents import texts  # noqa: E402
from tests.docfiles import pdf_bytes  # noqa: E402

TRAPS = [["Le gouver-", "nement des États-", "Unis a déﬁni une ﬂotte : « bonjour\u202f» !", "L’œuvre est ﬁnie."]]


def with_pypdf(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def with_pdfminer(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(data))


def import_ms(module: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        times.append(time.perf_counter() - started)
    base = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base.append(time.perf_counter() - started)
    return (statistics.median(times) - statistics.median(base)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=None)
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    traps = pdf_bytes(TRAPS)
    files = []
    for title, text in texts(args.corpus, args.files):
        lines = [line for p in text.split("\n") if p.strip() for line in textwrap.wrap(p.strip(), 95)]
        files.append(pdf_bytes([lines[i:i + 48] for i in range(0, len(lines), 48)], title=title))
    pages = sum(data.count(b"/Type /Page ") for data in files)
    print(f"{len(files)} PDFs, {pages} pages")
    words = {}
    for name, extract, module in (("pypdf", with_pypdf, "pypdf"), ("pdfminer.six", with_pdfminer, "pdfminer.high_level")):
        print(f"\n{name}: the traps as extracted: {extract(traps).strip()!r}")
        runs = []
        for _ in range(args.runs):
            started = time.perf_counter()
            out = [extract(data) for data in files]
            runs.append(time.perf_counter() - started)
        words[name] = [" ".join(t.split()) for t in out]
        print(f"{name}: extraction {statistics.median(runs):.2f} s for all ({statistics.median(runs) / pages * 1000:.1f} ms a page), "
              f"import {import_ms(module, args.runs):.0f} ms")
    same = sum(a.replace("- ", "-") == b.replace("- ", "-") for a, b in zip(words["pypdf"], words["pdfminer.six"]))
    print(f"\nsame words (whitespace aside) in {same} of {len(files)} files")


if __name__ == "__main__":
    main()
