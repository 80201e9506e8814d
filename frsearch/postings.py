"""Posting arrays: a second copy of each segment's postings that Python reads at C speed.

Whoosh stores a posting list as blocks of pickled, zlib-compressed Python lists;
reading one costs about half a microsecond a posting, which is most of a
query's time on a large index. Each segment written by frsearch's codec also
gets a ``.fsp`` file holding, for every (field, term), its document numbers,
weights and encoded positions as flat machine arrays: a posting list is read
with one ``array.frombytes`` call, and the positions of a few documents
without decoding the others. Whoosh's files stay the index of record; a
segment without the file (written by an older version) is read through
Whoosh as before.

One hash-file entry per (field, term), keyed ``fieldname NUL termbytes``::

    header   count, weight code, positions length      (HEADER)
    ids      count x uint32, segment document numbers, ascending
    weights  count x WEIGHT_CODES[code] (nothing when every weight is 1)
    offsets  (count + 1) x uint32 into the positions (nothing without positions)
    positions  the posting values as Whoosh's format encoded them, end to end
"""

from __future__ import annotations

import mmap
import os
import struct
from array import array
from bisect import bisect_left
from itertools import accumulate
from typing import Any, Sequence

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import FileFormatError, HashReader, HashWriter
from whoosh.filedb.structfile import StructFile

__all__ = ["EXT", "DamagedArrays", "PostingArrays", "pack", "open_arrays"]

#: File extension of a segment's posting arrays (Whoosh's cleanup removes it with the segment).
EXT = ".fsp"
MAGIC = b"FSP1"
HEADER = struct.Struct("<IBI")
#: Weight array type codes; 0 means every weight is 1.0 and none is stored.
WEIGHT_CODES = ("", "B", "H", "I", "d")
_ITEMSIZE = [0] + [array(code).itemsize for code in WEIGHT_CODES[1:]]
# Document numbers and offsets are stored little-endian; flipped on a big-endian machine.
_SWAP = struct.pack("=I", 1) != struct.pack("<I", 1)


class DamagedArrays(ValueError):
    """A posting arrays file whose bytes do not hold what was written."""


def key(fieldname: str, btext: bytes) -> bytes:
    return fieldname.encode("utf-8") + b"\x00" + btext


def _array(code: str, data: Any) -> array:
    out = array(code)
    out.frombytes(data)
    if _SWAP:
        out.byteswap()
    return out


def _tobytes(values: array) -> bytes:
    if _SWAP:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def pack(ids: Sequence[int], weights: Sequence[float], values: Sequence[bytes]) -> bytes:
    """The entry of one posting list (ids ascending, one weight and one value each)."""
    count = len(ids)
    code = 0
    distinct = set(weights)
    if not distinct <= {1.0}:
        if all(float(w).is_integer() and w >= 0 for w in distinct):
            top = max(distinct)
            code = 1 if top < 1 << 8 else 2 if top < 1 << 16 else 3 if top < 1 << 32 else 4
        else:
            code = 4
    parts = [b"", _tobytes(array("I", ids))]
    if code == 4:
        parts.append(_tobytes(array("d", weights)))
    elif code:
        parts.append(_tobytes(array(WEIGHT_CODES[code], map(int, weights))))
    blob = b"".join(values)
    if blob:
        parts.append(_tobytes(array("I", accumulate(map(len, values), initial=0))))
        parts.append(blob)
    parts[0] = HEADER.pack(count, code, len(blob))
    return b"".join(parts)


class _MappedFile(StructFile):
    """A memory-mapped file read by slicing (Whoosh's StructFile seeks and reads)."""

    def __init__(self, mapped: mmap.mmap, name: str) -> None:
        super().__init__(mapped, name=name)
        self._map = mapped

    def get(self, position: int, length: int) -> bytes:
        return self._map[position : position + length]


class PostingArrays:
    """The posting arrays of one segment, read on demand."""

    def __init__(self, reader: HashReader, doc_count: int, name: str = EXT) -> None:
        self._reader = reader
        self._file = reader.dbfile
        self._doc_count = doc_count
        self._name = name

    def close(self) -> None:
        self._reader.close()

    def _locate(self, fieldname: str, btext: bytes) -> tuple[int, int, int, int] | None:
        try:
            pos, length = self._reader.range_for_key(key(fieldname, btext))
        except KeyError:
            return None
        header = self._file.get(pos, HEADER.size)
        if len(header) == HEADER.size:
            count, code, bloblen = HEADER.unpack(header)
            if code < len(WEIGHT_CODES):
                size = HEADER.size + (4 + _ITEMSIZE[code]) * count
                if bloblen:
                    size += 4 * (count + 1) + bloblen
                if size == length and count <= self._doc_count:
                    return pos + HEADER.size, count, code, bloblen
        raise DamagedArrays(f"{self._name} has a bad entry")

    def postings(self, fieldname: str, btext: bytes) -> tuple[array, Sequence[float] | None] | None:
        """(document numbers, weights or None when all are 1.0) of a term, or None."""
        found = self._locate(fieldname, btext)
        if found is None:
            return None
        start, count, code, _bloblen = found
        size = 4 * count + _ITEMSIZE[code] * count
        raw = self._file.get(start, size)
        ids = _array("I", raw[: 4 * count])
        if count and ids[-1] >= self._doc_count:
            raise DamagedArrays(f"{self._name} has a document number out of range")
        weights = _array(WEIGHT_CODES[code], raw[4 * count :]) if code else None
        return ids, weights

    def values(self, fieldname: str, btext: bytes, wanted: Sequence[int]) -> dict[int, bytes]:
        """{segment docnum: encoded value} of a term for the ``wanted`` documents that have it."""
        found = self._locate(fieldname, btext)
        if found is None:
            return {}
        start, count, code, bloblen = found
        if not bloblen:
            return {}
        raw = self._file.get(start, 4 * count)
        ids = _array("I", raw)
        offsets_at = start + 4 * count + _ITEMSIZE[code] * count
        offsets = _array("I", self._file.get(offsets_at, 4 * (count + 1)))
        if offsets[-1] != bloblen:
            raise DamagedArrays(f"{self._name} has bad position offsets")
        blob_at = offsets_at + 4 * (count + 1)
        out: dict[int, bytes] = {}
        found = []
        for docnum in wanted:
            i = bisect_left(ids, docnum)
            if i < count and ids[i] == docnum:
                found.append((docnum, i))
        if len(found) * 8 > count:  # many of them: one read
            blob = self._file.get(blob_at, bloblen)
            for docnum, i in found:
                out[docnum] = bytes(blob[offsets[i] : offsets[i + 1]])
        else:
            for docnum, i in found:
                lo, hi = offsets[i], offsets[i + 1]
                out[docnum] = bytes(self._file.get(blob_at + lo, hi - lo))
        return out


def open_arrays(storage: Any, segment: Any) -> PostingArrays | None:
    """A segment's posting arrays, or None if it has none (written by an older version).

    DamagedArrays if the file is there but cannot be read as posting arrays.
    """
    if storage is None or segment is None:
        return None
    name = segment.make_filename(EXT)
    dbfile = None
    try:
        if not storage.file_exists(name):
            return None
        length = storage.file_length(name)
        if isinstance(storage, FileStorage):
            with open(os.path.join(storage.folder, name), "rb") as f:
                dbfile = _MappedFile(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), name)
        else:
            dbfile = storage.open_file(name)
        return PostingArrays(HashReader(dbfile, length, magic=MAGIC), segment.doc_count_all(), name)
    except (ValueError, EOFError, struct.error, FileFormatError) as exc:
        if dbfile is not None:
            dbfile.close()
        raise DamagedArrays(f"{name} cannot be read: {exc}") from None


def create_writer(storage: Any, segment: Any) -> HashWriter:
    return HashWriter(segment.create_file(storage, EXT), magic=MAGIC)
