"""PDF: the text layer, page by page, with pypdf (imported when a PDF is read).

Why pypdf rather than pdfminer.six: both are well kept and licence-compatible
(BSD, MIT). On 60 generated French PDFs (105 pages,
benchmarks/speed/pdf_libraries.py) both gave the same words, and both leave the
same French traps for us to repair (ligature glyphs, the hyphen of a word cut at
a line end); pypdf extracted them ten times faster (9.6 against 94 ms a page),
is pure Python without dependencies (pdfminer.six needs charset-normalizer and
cryptography) and has its own limits on hostile files (decompression, array
sizes, page-tree cycles).

Each page's text is repaired for French (ligatures, words cut at line ends,
apostrophes: see frsearch.documents.french); the body is the pages joined by a
blank line and ``pages`` says where each one starts, so a hit can name its
page. A PDF without any text is reported as scanned rather than indexed
empty; encrypted, damaged and hostile files are refused with a reason, and a
file that takes too long is given up between two pages.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import logging
import re
import time
import warnings
from typing import Any, Iterator

from frsearch.documents.base import MAX_TEXT_CHARS, Extracted, clean_text
from frsearch.documents.french import repair_pdf_text
from frsearch.errors import DocumentError

__all__ = ["read_pdf"]

#: A PDF whose text takes longer than this to extract is given up (checked between pages).
MAX_SECONDS = 60.0
#: Titles some generators write into the metadata instead of the document's title.
_JUNK_TITLE_RE = re.compile(
    r"^(?:untitled|sans titre|document\d*|microsoft (?:word|powerpoint) - .*|.*\.(?:docx?|odt|pdf|rtf|tex|dvi))$",
    re.IGNORECASE,
)
_PDF_DATE_RE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """pypdf reports oddities of damaged files as log records and warnings: not ours to show.

    (Its modules log through loggers under "pypdf", which inherit this level.)
    """
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def read_pdf(data: bytes, *, max_seconds: float = MAX_SECONDS) -> Extracted:
    """The text of each page of a PDF, its title, author and date."""
    with _quiet():
        try:
            return _read(data, max_seconds)
        except DocumentError:
            raise
        except RecursionError:
            raise DocumentError("refused PDF: its objects are nested too deeply") from None
        except MemoryError:
            raise DocumentError("refused PDF: too large to read in memory") from None
        except Exception as exc:  # pypdf raises many kinds on damaged files
            text = str(exc).strip().splitlines()
            detail = f"{type(exc).__name__}: {text[0][:120]}" if text else type(exc).__name__
            if type(exc).__name__ == "LimitReachedError":  # pypdf's own bounds on hostile files
                raise DocumentError(f"refused PDF ({detail})") from None
            raise DocumentError(f"damaged PDF ({detail})") from None


def _read(data: bytes, max_seconds: float) -> Extracted:
    from pypdf import PdfReader

    started = time.monotonic()
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        # Many PDFs are encrypted only against editing, with an empty password to read them.
        try:
            opened = reader.decrypt("")
        except Exception as exc:
            if type(exc).__name__ == "DependencyError":
                raise DocumentError("encrypted PDF (AES: install the 'cryptography' package to read it)") from None
            raise
        if not opened:
            raise DocumentError("encrypted PDF (needs a password)")
    texts: list[str] = []
    pages: list[int] = []
    length = 0
    for number, page in enumerate(reader.pages, 1):
        if time.monotonic() - started > max_seconds:
            raise DocumentError(f"refused PDF: still reading page {number} after {max_seconds:g} s")
        text = clean_text(repair_pdf_text(page.extract_text() or "")).strip()
        pages.append(length)
        texts.append(text)
        length += len(text) + 2
        if length > MAX_TEXT_CHARS:
            raise DocumentError(f"refused PDF: over {MAX_TEXT_CHARS:,} characters of text")
    if not pages:
        raise DocumentError("PDF without pages")
    if not any(t.strip() for t in texts):
        raise DocumentError("no text layer: scanned?")
    found = Extracted(body="\n\n".join(texts), pages=pages)
    _metadata(reader, found)
    return found


def _metadata(reader: Any, found: Extracted) -> None:
    try:
        info = reader.metadata
    except Exception:
        return  # damaged metadata: the text is what matters
    if not info:
        return
    title = _text(info.get("/Title"))
    if title and not _JUNK_TITLE_RE.match(title):
        found.title = title
    author = _text(info.get("/Author"))
    if author:
        found.fields["author"] = author
    date = _date(_text(info.get("/CreationDate")) or _text(info.get("/ModDate")))
    if date:
        found.fields["date"] = date


def _text(value: Any) -> str:
    try:
        value = value.get_object() if hasattr(value, "get_object") else value
    except Exception:
        return ""
    return " ".join(str(value).split()) if isinstance(value, str) else ""


def _date(value: str) -> str | None:
    """A PDF date (D:YYYYMMDDHHmmSS...) as YYYY-MM-DD (or YYYY-MM, YYYY)."""
    match = _PDF_DATE_RE.match(value or "")
    if not match:
        return None
    year, month, day = match.groups()
    try:
        datetime.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None
    return "-".join(part for part in (year, month, day) if part)
