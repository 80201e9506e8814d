"""RTF: its text, with ``\\'e9`` (code page) and ``\\u233`` (Unicode) escapes decoded.

A small reader of its own (RTF is a stream of groups, control words and
text): destinations that are not text (font and colour tables, styles,
pictures, field instructions, ``{\\*...}`` extensions) are skipped, the
``\\info`` group gives the title, author and creation date. Nesting is kept on
a list, not the call stack, so a deeply nested file cannot exhaust it.
"""

from __future__ import annotations

import codecs
import re

from frsearch.documents.base import MAX_TEXT_CHARS, Extracted
from frsearch.errors import DocumentError

__all__ = ["read_rtf"]

_TOKEN_RE = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([\r\n]+)|([^\\{}\r\n]+)",
    re.DOTALL,
)
# Groups whose content is not text.
_SKIPPED = frozenset(
    "fonttbl colortbl stylesheet listtable listoverridetable revtbl rsidtbl pict object objdata "
    "themedata colorschememapping latentstyles datastore xmlnstbl generator fldinst filetbl "
    "private bkmkstart bkmkend xe tc factoidname mmathPr pgdsctbl operator company".split()
)
_INFO_FIELDS = {"title": "title", "author": "author", "subject": "subject"}
_SYMBOLS = {
    "par": "\n", "line": "\n", "sect": "\n", "page": "\n", "row": "\n", "tab": "\t", "cell": "\t",
    "emdash": "\u2014", "endash": "\u2013", "lquote": "\u2018", "rquote": "\u2019",
    "ldblquote": "\u201c", "rdblquote": "\u201d", "bullet": "\u2022", "emspace": " ", "enspace": " ",
}
_ESCAPES = {"~": "\u00a0", "_": "\u2011", "-": "", "\\": "\\", "{": "{", "}": "}", "\n": "\n", "\r": "\n"}


def _codec(number: int) -> str:
    name = f"cp{number}"
    try:
        codecs.lookup(name)
        return name
    except LookupError:
        return "cp1252"


class _Group:
    __slots__ = ("skip", "uc", "dest")

    def __init__(self, skip: bool, uc: int, dest: str | None) -> None:
        self.skip, self.uc, self.dest = skip, uc, dest


def read_rtf(data: bytes) -> Extracted:
    """The text of an RTF file, and its title, author and date from \\info."""
    if not data.lstrip().startswith(b"{\\rtf"):
        raise DocumentError("not an RTF file (no {\\rtf header)")
    encoding = "cp1252"
    state = _Group(False, 1, None)
    stack: list[_Group] = []
    out: list[str] = []
    length = 0
    info: dict[str, list[str]] = {}
    date: dict[str, int] = {}
    pending: bytearray = bytearray()  # \'hh bytes, decoded together (multi-byte code pages)
    skip_chars = 0  # fallback characters still to skip after a \uN
    expect_dest = False  # just after {\*: the group is an extension we do not read

    def emit(text: str) -> None:
        nonlocal length
        if state.dest in _INFO_FIELDS:
            info.setdefault(_INFO_FIELDS[state.dest], []).append(text)
        elif not state.skip:
            out.append(text)
            length += len(text)
            if length > MAX_TEXT_CHARS:
                raise DocumentError(f"refused RTF: over {MAX_TEXT_CHARS:,} characters of text")

    def flush() -> None:
        if pending:
            emit(pending.decode(encoding, errors="replace"))
            pending.clear()

    position = 0
    while position < len(data):
        match = _TOKEN_RE.match(data, position)
        if match is None:  # a lone backslash before a byte that starts no control word
            position += 1
            continue
        position = match.end()
        word, arg, hexbyte, escaped, brace, newline, text = match.groups()
        if hexbyte is not None:
            if skip_chars:
                skip_chars -= 1
            else:
                pending.append(int(hexbyte, 16))
            continue
        flush()
        if newline is not None:
            continue
        if brace == b"{":
            stack.append(state)
            if len(stack) > 10_000:
                raise DocumentError("refused RTF: groups nested too deeply")
            state = _Group(state.skip, state.uc, state.dest)
            skip_chars = 0
            continue
        if brace == b"}":
            if stack:
                state = stack.pop()
            skip_chars = 0
            expect_dest = False
            continue
        if text is not None:
            chunk = text.decode(encoding, errors="replace")
            if skip_chars:
                cut = min(skip_chars, len(chunk))
                chunk, skip_chars = chunk[cut:], skip_chars - cut
            if chunk:
                emit(chunk)
            continue
        if escaped is not None:
            symbol = escaped.decode("latin-1")
            if symbol == "*":
                expect_dest = True
                continue
            if skip_chars:
                skip_chars -= 1
                continue
            emit(_ESCAPES.get(symbol, ""))
            continue
        name = word.decode("ascii")
        value = int(arg) if arg is not None else None
        if expect_dest:
            expect_dest = False
            state.skip = True  # {\*\destination ...}: an extension, not text
            state.dest = None
            continue
        if name == "bin" and value is not None:  # raw bytes (of a picture) follow: not text
            position += max(0, value)
        elif name == "ansicpg" and value is not None:
            encoding = _codec(value)
        elif name == "uc" and value is not None:
            state.uc = max(0, min(value, 10))
        elif name == "u" and value is not None:
            emit(chr(value + 65536 if value < 0 else value) if 0 <= (value + 65536 if value < 0 else value) < 0x110000 else "\ufffd")
            skip_chars = state.uc
        elif name in _SKIPPED:
            state.skip = True
        elif name == "info":
            state.skip = True
            state.dest = "info"
        elif name in _INFO_FIELDS and state.dest == "info":
            state.dest = name
        elif name in ("creatim", "revtim") and state.dest == "info":
            state.dest = name
        elif name in ("yr", "mo", "dy") and state.dest in ("creatim", "revtim") and value is not None:
            date.setdefault(f"{state.dest}:{name}", value)
        elif name in _SYMBOLS:
            emit(_SYMBOLS[name])
    flush()
    lines = [" ".join(line.split()) for line in "".join(out).split("\n")]
    found = Extracted(body=re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip())
    title = " ".join("".join(info.get("title", [])).split())
    found.title = title or None
    author = " ".join("".join(info.get("author", [])).split())
    if author:
        found.fields["author"] = author
    for which in ("creatim", "revtim"):
        year = date.get(f"{which}:yr")
        if year and 1000 <= year <= 9999:
            month, day = date.get(f"{which}:mo", 1), date.get(f"{which}:dy", 1)
            if 1 <= month <= 12 and 1 <= day <= 31:
                found.fields["date"] = f"{year:04d}-{month:02d}-{day:02d}"
                break
    return found
