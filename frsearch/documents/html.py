"""HTML: the visible text of a page, its <title> or first <h1>."""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]


class _HTMLText(HTMLParser):
    """Collect the visible text of an HTML page, its <title> and first <h1>."""

    _SKIP = {"script", "style", "noscript", "template", "svg", "head"}
    _BLOCK = {
        "p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "section",
        "article", "header", "footer", "nav", "aside", "main", "blockquote", "pre",
        "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "figcaption", "hr", "title",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.title: str | None = None
        self.h1: str | None = None
        self._capture: str | None = None
        self._captured: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("title", "h1") and self._capture is None:
            self._capture = tag
            self._captured = []
        if tag == "title":
            return
        if tag in self._SKIP:
            self.skip_depth += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._capture:
            text = " ".join("".join(self._captured).split())
            if tag == "title" and self.title is None:
                self.title = text or None
            elif tag == "h1" and self.h1 is None:
                self.h1 = text or None
            self._capture = None
        if tag == "title":
            return
        if tag in self._SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._captured.append(data)
        if self.skip_depth == 0 and self._capture != "title":
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str | None, str]:
    """Return (title, visible text) of an HTML page; scripts and styles are dropped."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return parser.title or parser.h1, body
