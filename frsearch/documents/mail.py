"""E-mail (.eml): the subject as title, the body text (plain, or HTML made text), sender and date.

Read with the standard library's ``email`` package, which decodes transfer
encodings (quoted-printable, base64) and charsets; a part in an unknown
charset is read as Windows-1252 rather than refused. Attachments are not read.
"""

from __future__ import annotations

from typing import Any

from frsearch.documents.base import Extracted
from frsearch.documents.html import html_to_text
from frsearch.errors import DocumentError

__all__ = ["read_email"]

#: Parts of a message looked at, at most (a message with thousands of parts is not mail).
MAX_PARTS = 1000


def _part_text(part: Any) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("cp1252", errors="replace")


def read_email(data: bytes) -> Extracted:
    """The text of an e-mail message and its subject, sender and date."""
    from email import policy
    from email.parser import BytesParser
    from email.utils import parsedate_to_datetime

    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
    except Exception as exc:  # the parser is lenient; this is only for the unforeseen
        raise DocumentError(f"damaged e-mail ({type(exc).__name__})") from None
    if not message.keys():
        raise DocumentError("not an e-mail (no headers)")
    plain: list[str] = []
    html: list[str] = []
    for count, part in enumerate(message.walk()):
        if count > MAX_PARTS:
            raise DocumentError(f"refused e-mail: over {MAX_PARTS} parts")
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain":
            plain.append(_part_text(part))
        elif kind == "text/html":
            html.append(html_to_text(_part_text(part))[1])
    found = Extracted(body="\n\n".join(plain or html).strip())
    found.title = _header(message, "subject")
    sender = _header(message, "from")
    if sender:
        found.fields["author"] = sender
    when = _header(message, "date")
    if when:
        try:
            found.fields["date"] = parsedate_to_datetime(when).date().isoformat()
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return found


def _header(message: Any, name: str) -> str | None:
    try:
        value = message.get(name)
    except Exception:  # a header the default policy cannot parse
        value = None
    return " ".join(str(value).split()) if value else None
