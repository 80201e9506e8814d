"""Markdown: the text a reader sees, with markdown-it-py (imported when a Markdown file is read).

Link and image targets, HTML (comments included), code-fence markers, table
pipes and emphasis markers are not text: they are neither searchable nor shown
in snippets. Link text, image descriptions, code and table cells are kept.
A front-matter ``title:`` or the first heading is the title.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["markdown_title", "markdown_to_text"]

_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n(?:---|\.\.\.)\s*\n", re.DOTALL)
# Block tokens after which the text goes on on a new line.
_BLOCK_ENDS = {
    "paragraph_close", "heading_close", "list_item_close", "blockquote_close", "tr_close",
    "table_close", "bullet_list_close", "ordered_list_close", "dl_close", "dt_close", "dd_close",
}

_parser: Any = None


def _markdown_parser() -> Any:
    global _parser
    if _parser is None:
        from markdown_it import MarkdownIt

        # CommonMark plus tables and strikethrough (GitHub's flavour, as people write notes).
        _parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    return _parser


def markdown_title(text: str) -> tuple[str | None, str]:
    """Return (front matter title, text without the front matter)."""
    title = None
    match = _FRONT_MATTER_RE.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "title" and value.strip():
                title = value.strip().strip("\"'")
        text = text[match.end():]
    return title, text


def markdown_to_text(text: str) -> tuple[str | None, str]:
    """Return (title, visible text) of a Markdown document."""
    title, text = markdown_title(text)
    out: list[str] = []
    heading: list[str] | None = None
    first_heading: str | None = None
    for token in _markdown_parser().parse(text):
        kind = token.type
        if kind == "heading_open" and first_heading is None:
            heading = []
        elif kind == "inline":
            piece = _inline_text(token.children or [])
            out.append(piece)
            if heading is not None:
                heading.append(piece)
        elif kind == "html_block":  # the text of HTML written in the Markdown, not its tags or comments
            from frsearch.documents.html import html_to_text

            out.append(html_to_text(token.content)[1] + "\n\n")
        elif kind in ("fence", "code_block"):
            out.append(token.content.rstrip("\n") + "\n\n")
        elif kind in ("th_close", "td_close"):
            out.append("\t")
        elif kind == "hr":
            out.append("\n")
        elif kind in _BLOCK_ENDS:
            if kind == "heading_close" and heading is not None:
                first_heading = " ".join("".join(heading).split()) or None
                heading = None
            out.append("\n" if kind in ("tr_close", "list_item_close") else "\n\n")
        # html_inline (tags, comments) and the *_open markers carry no text.
    body = "".join(out)
    lines = [line.strip() for line in body.split("\n")]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return title or first_heading, body


def _inline_text(children: list[Any]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
    return "".join(parts)
