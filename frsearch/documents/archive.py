"""Zip containers (.docx, .odt, .epub) and their XML, read within limits.

A zip bomb (a small file whose parts expand to gigabytes) and XML that
declares entities (the "billion laughs", external entities) are refused with
a reason before they cost memory or time. The sizes a zip declares bound what
is read: Python's zip reader never returns more than a part's declared size,
and a part whose data does not match it fails its CRC check.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

from frsearch.errors import DocumentError

__all__ = ["MAX_PARTS", "MAX_UNZIPPED", "ZipDocument", "parse_xml"]

#: The parts a document reader unzips may add up to this many bytes (a 300-page Word file
#: holds about 5 MB of XML).
MAX_UNZIPPED = 256 * 1024 * 1024
#: A part may be this many times larger than its compressed data (text XML compresses
#: 5 to 20 times; zip bombs, thousands of times).
MAX_RATIO = 200
#: Zips with more entries than this are not documents.
MAX_PARTS = 20_000


class ZipDocument:
    """A zip file opened for reading its parts one by one, each checked before it is read."""

    def __init__(self, data: bytes, what: str) -> None:
        self.what = what
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
            raise DocumentError(f"damaged {what} (not a readable zip: {exc})") from None
        if len(infos) > MAX_PARTS:
            raise DocumentError(f"refused {what}: {len(infos):,} parts in its zip")
        self.infos = {info.filename: info for info in infos}
        self.unzipped = 0

    def names(self) -> list[str]:
        return list(self.infos)

    def has(self, name: str) -> bool:
        return name in self.infos

    def read(self, name: str) -> bytes:
        info = self.infos.get(name)
        if info is None:
            raise DocumentError(f"damaged {self.what} ({name} is missing)")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1024):
            raise DocumentError(
                f"refused {self.what}: {name} would expand {info.file_size // max(info.compress_size, 1):,} "
                "times (zip bomb?)"
            )
        self.unzipped += info.file_size
        if self.unzipped > MAX_UNZIPPED:
            raise DocumentError(
                f"refused {self.what}: its parts expand to over {MAX_UNZIPPED // 2**20} MB (zip bomb?)"
            )
        try:
            with self.zip.open(info) as part:
                return part.read(info.file_size + 1)[: info.file_size]
        except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError, RuntimeError) as exc:
            # RuntimeError: an encrypted part; NotImplementedError: an unknown compression.
            raise DocumentError(f"damaged {self.what} ({name}: {exc})") from None
        except Exception as exc:  # zlib.error and other decompressor errors
            raise DocumentError(f"damaged {self.what} ({name}: {type(exc).__name__})") from None

    def xml(self, name: str) -> Any:
        return parse_xml(self.read(name), f"{self.what} ({name})")


class _EntityDeclared(Exception):
    pass


def _refuse_entities(*_args: Any) -> None:
    raise _EntityDeclared


def parse_xml(data: bytes, what: str) -> Any:
    """Parse XML into an ElementTree element; DocumentError if damaged or if it declares entities.

    Driven through expat directly (ElementTree's own parser hides it), so that any
    entity declaration stops the parse: no expansion, internal or external, ever runs.
    """
    builder = ElementTree.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def name(raw: str) -> str:
        return "{" + raw if "}" in raw else raw

    def start(tag: str, attrs: dict[str, str]) -> None:
        builder.start(name(tag), {name(k): v for k, v in attrs.items()})

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: builder.end(name(tag))
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = _refuse_entities
    parser.UnparsedEntityDeclHandler = _refuse_entities
    parser.ExternalEntityRefHandler = _refuse_entities
    try:
        parser.Parse(data, True)
        return builder.close()
    except _EntityDeclared:
        raise DocumentError(f"refused {what}: its XML declares entities") from None
    except (expat.ExpatError, AssertionError, IndexError) as exc:  # IndexError: no root element
        raise DocumentError(f"damaged {what} (XML: {exc})") from None
