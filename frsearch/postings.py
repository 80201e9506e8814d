"""Posting arrays: a second copy of each segment's postings that Python reads at C speed.

Whoosh stores a posting list as blocks of pickled, zlib-compressed Python lists;
reading one costs about half a microsecond a posting, which is most of a
query's time on a large index. Each segment written by frsearch's codec also
gets a ``.fsp`` file holding, for every (field, term), its document numbers,
weights and positions as flat machine arrays: a posting list is read as numpy
arrays, in place in the memory-mapped file, and the positions of some documents
without decoding the others' (the plain-Python path of frsearch.search reads
them as lists). Whoosh's files stay the index of record; a segment without the
file (written by an older version) is read through Whoosh as before.

One hash-file entry per (field, term), keyed ``fieldname NUL termbytes``::

    header     count, weight code, number of positions       (HEADER)
    ids        count x uint32, segment document numbers, ascending
    weights    count x WEIGHT_CODES[code] (nothing when every weight is 1)
    offsets    (count + 1) x uint32 into the positions (nothing without positions)
    positions  uint32, each posting's in turn

Integers are little-endian. Positions are kept for fields whose format is
FrenchPositions (title and body), whose values are a count and 32-bit positions.
"""

from __future__ import annotations

import mmap
import os
import struct
from array import array
from itertools import accumulate
from typing import Any, Sequence

import numpy as np
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import FileFormatError, HashReader, HashWriter
from whoosh.filedb.structfile import StructFile

__all__ = [
    "EXT", "DamagedArrays", "PostingArrays", "check_slices", "create_writer", "key", "open_arrays",
    "open_mapped", "pack",
]

#: File extension of a segment's posting arrays (Whoosh's cleanup removes it with the segment).
EXT = ".fsp"
MAGIC = b"FSP1"
HEADER = struct.Struct("<IBI")
#: Weight array type codes; 0 means every weight is 1.0 and none is stored.
WEIGHT_CODES = ("", "B", "H", "I", "d")
_ITEMSIZE = [0] + [array(code).itemsize for code in WEIGHT_CODES[1:]]
#: The same types for numpy, little-endian as stored.
_DTYPES = (None, np.dtype("<u1"), np.dtype("<u2"), np.dtype("<u4"), np.dtype("<f8"))
_U32 = np.dtype("<u4")
# Document numbers and offsets are stored little-endian; flipped on a big-endian machine.
_SWAP = struct.pack("=I", 1) != struct.pack("<I", 1)


class DamagedArrays(ValueError):
    """A posting arrays file whose bytes do not hold what was written."""


def key(fieldname: str, btext: bytes) -> bytes:
    return fieldname.encode("utf-8") + b"\x00" + btext


def _tobytes(values: array) -> bytes:
    if _SWAP:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def pack(ids: Sequence[int], weights: Sequence[float], values: Sequence[bytes] | None) -> bytes:
    """The entry of one posting list: ids ascending, one weight each, and with ``values``
    each posting's FrenchPositions value (a 4-byte count, then the positions)."""
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
    npositions = 0
    if values is not None:
        blob = b"".join([v[4:] for v in values])  # stored little-endian, as the arrays
        npositions = len(blob) // 4
        if npositions:
            lengths = [max(0, len(v) - 4) // 4 for v in values]
            parts.append(_tobytes(array("I", accumulate(lengths, initial=0))))
            parts.append(blob)
    parts[0] = HEADER.pack(count, code, npositions)
    return b"".join(parts)


class _MappedFile(StructFile):
    """A memory-mapped file read by slicing (Whoosh's StructFile seeks and reads)."""

    def __init__(self, mapped: mmap.mmap, name: str) -> None:
        super().__init__(mapped, name=name)
        self._map = mapped

    def get(self, position: int, length: int) -> bytes:
        return self._map[position : position + length]

    def vector(self, position: int, count: int, dtype: np.dtype) -> np.ndarray:
        """``count`` values at ``position``, read in place (no copy; see PostingArrays.close)."""
        if position + count * dtype.itemsize > len(self._map):
            raise DamagedArrays(f"{self._name} is shorter than its entries say")
        return np.frombuffer(self._map, dtype, count, position)


class PostingArrays:
    """The posting arrays of one segment, read on demand."""

    def __init__(self, reader: HashReader, doc_count: int, name: str = EXT) -> None:
        self._reader = reader
        self._file = reader.dbfile
        self._doc_count = doc_count
        self._name = name

    def close(self) -> None:
        # A damaged index may have had its files closed already (see index._close_files_left_open).
        if not getattr(self._file, "is_closed", False):
            try:
                self._reader.close()
            except BufferError:
                # Arrays read in place are still held (by a caller's traceback, say): the
                # map is released with the last of them.
                pass

    def _vector(self, position: int, count: int, dtype: np.dtype) -> np.ndarray:
        """``count`` values of ``dtype`` at ``position``: in place when the file is mapped."""
        if isinstance(self._file, _MappedFile):
            return self._file.vector(position, count, dtype)
        return np.frombuffer(self._file.get(position, count * dtype.itemsize), dtype)

    def _locate(self, fieldname: str, btext: bytes) -> tuple[int, int, int, int] | None:
        """(where the ids start, count, weight code, number of positions) of an entry, or None."""
        try:
            pos, length = self._reader.range_for_key(key(fieldname, btext))
        except KeyError:
            return None
        header = self._file.get(pos, HEADER.size)
        if len(header) == HEADER.size:
            count, code, npositions = HEADER.unpack(header)
            if code < len(WEIGHT_CODES):
                size = HEADER.size + (4 + _ITEMSIZE[code]) * count
                if npositions:
                    size += 4 * (count + 1) + 4 * npositions
                if size == length and count <= self._doc_count:
                    return pos + HEADER.size, count, code, npositions
        raise DamagedArrays(f"{self._name} has a bad entry")

    def postings(self, fieldname: str, btext: bytes) -> tuple[list[int], list[float] | None] | None:
        """(document numbers, weights or None when all are 1.0) of a term, or None."""
        found = self.vectors(fieldname, btext)
        if found is None:
            return None
        ids, weights = found
        return ids.tolist(), None if weights is None else weights.tolist()

    def vectors(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray | None] | None:
        """As :meth:`postings`, as numpy arrays (weights in their stored integer or float type),
        read in place when the file is mapped: use them, don't keep them."""
        found = self._locate(fieldname, btext)
        if found is None:
            return None
        start, count, code, _npositions = found
        ids = self._id_vector(start, count)
        weights = None
        if code:
            weights = self._vector(start + 4 * count, count, _DTYPES[code])
        return ids, weights

    def position_vectors(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(ids, offsets, positions) of every posting of a term, or None without positions.

        The arrays are read in place when the file is mapped: use them, don't keep them.
        Only the first and last offsets are checked: a caller checks that the offsets
        it uses ascend (check_slices), so a lookup does not cost a pass over them all.
        """
        found = self._locate(fieldname, btext)
        if found is None or not found[3]:
            return None
        start, count, code, npositions = found
        offsets, positions_at = self._positions_at(start, count, code, npositions)
        return self._id_vector(start, count), offsets, self._vector(positions_at, npositions, _U32)

    def _id_vector(self, start: int, count: int) -> np.ndarray:
        ids = self._vector(start, count, _U32)
        if count and int(ids[-1]) >= self._doc_count:
            raise DamagedArrays(f"{self._name} has a document number out of range")
        return ids

    def _positions_at(self, start: int, count: int, code: int, npositions: int) -> tuple[np.ndarray, int]:
        """The offsets of an entry's positions (first and last checked), and where its
        positions start."""
        offsets_at = start + (4 + _ITEMSIZE[code]) * count
        offsets = self._vector(offsets_at, count + 1, _U32)
        if offsets[-1] != npositions or offsets[0] != 0:
            raise DamagedArrays(f"{self._name} has bad position offsets")
        return offsets, offsets_at + 4 * (count + 1)

    def positions(self, fieldname: str, btext: bytes, wanted: Sequence[int]) -> dict[int, list[int]]:
        """{segment docnum: positions} of a term for the ``wanted`` documents that have it
        (only their positions are read)."""
        found = self._locate(fieldname, btext)
        if found is None or not found[3]:
            return {}
        start, count, code, npositions = found
        ids = self._id_vector(start, count)
        offsets, positions_at = self._positions_at(start, count, code, npositions)
        out: dict[int, list[int]] = {}
        for docnum in wanted:
            i = int(ids.searchsorted(docnum))
            if i < count and ids[i] == docnum:
                lo, hi = int(offsets[i]), int(offsets[i + 1])
                if not lo <= hi <= npositions:
                    raise DamagedArrays(f"{self._name} has bad position offsets")
                out[docnum] = self._vector(positions_at + 4 * lo, hi - lo, _U32).tolist()
        return out


def check_slices(starts: np.ndarray, lengths: np.ndarray, size: int) -> None:
    """DamagedArrays unless the slices of positions that offsets give are inside the positions."""
    if len(lengths) and (lengths.min() < 0 or int((starts + lengths).max()) > size):
        raise DamagedArrays("a posting arrays file has bad position offsets")


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
        dbfile = open_mapped(storage, name)
        return PostingArrays(HashReader(dbfile, length, magic=MAGIC), segment.doc_count_all(), name)
    except (ValueError, EOFError, struct.error, FileFormatError) as exc:
        if dbfile is not None:
            dbfile.close()
        raise DamagedArrays(f"{name} cannot be read: {exc}") from None


def open_mapped(storage: Any, name: str) -> StructFile:
    """A file of the storage, memory-mapped when it is on disk (reads are then slices)."""
    if isinstance(storage, FileStorage):
        with open(os.path.join(storage.folder, name), "rb") as f:
            if os.fstat(f.fileno()).st_size:
                return _MappedFile(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), name)
    return storage.open_file(name)


def create_writer(storage: Any, segment: Any) -> HashWriter:
    return HashWriter(segment.create_file(storage, EXT), magic=MAGIC)
