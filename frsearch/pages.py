"""Pages of a document (PDF): which page a hit's snippet comes from.

An indexed document with pages stores where each page starts in its body.
The snippet of a hit is taken from one page, the one holding the most distinct
matched terms (then the most matches, then the first), so that ``p. 12``
tells the reader where to look.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Sequence

__all__ = ["choose_page", "page_at"]


def page_at(pages: Sequence[int], offset: int) -> int:
    """The page number (1-based) holding character ``offset`` of the body."""
    return max(1, bisect_right(pages, offset))


def choose_page(pages: Sequence[int], length: int, matches: Sequence[tuple[int, int, str]]) -> tuple[int, int, int]:
    """(page number, start, end) of the page to take a snippet from; page 1 without matches."""
    best: tuple[int, int, int] | None = None
    chosen = 1
    terms: dict[int, set[str]] = {}
    counts: dict[int, int] = {}
    for start, _end, term in matches:
        number = page_at(pages, start)
        terms.setdefault(number, set()).add(term)
        counts[number] = counts.get(number, 0) + 1
    for number, found in terms.items():
        key = (len(found), counts[number], -number)
        if best is None or key > best:
            best, chosen = key, number
    start = pages[chosen - 1] if chosen - 1 < len(pages) else 0
    end = pages[chosen] if chosen < len(pages) else length
    return chosen, start, end
