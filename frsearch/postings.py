"""Posting arrays: how each segment's postings are stored, and how queries read them.

frsearch's codec (frsearch.codec) writes every posting list once, in a segment's
``.fsp`` file, as flat machine arrays that numpy reads with a few C calls: a
posting list is read without decoding anything in Python, and the positions of
some documents without the others'. Whoosh's term dictionary (``.trm``) finds a
term's entry: its term info holds the document frequency, the first document
number and where the entry lies in the ``.fsp`` file. Whoosh's own matchers
(segment merging, for one) are served from the same arrays (codec.ArrayTermsReader).

The file starts with MAGIC; each entry is::

    codes      2 bytes: id width | weight code << 4, position width | count width << 4
    ids        (count - 1) x id width: each document number after the first, minus the first
    weights    count x WEIGHT_CODES[weight code] (nothing when every weight is 1)
    counts     count x count width: how many positions each posting has (nothing when
               these are the weights, which is the rule for FrenchPositions)
    positions  position width each, each posting's in turn, ascending within a posting

A width code is 0 (nothing stored), 1, 2 or 3 (1, 2 or 4 bytes a value): each array
takes the narrowest type its largest value fits. An entry has positions when its
position width is not 0; they are kept for fields whose format is FrenchPositions
(title and body), whose values are a count and 32-bit positions. Integers are
little-endian.
"""

from __future__ import annotations

import mmap
import os
import struct
from array import array
from typing import Any, Protocol, Sequence

import numpy as np
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

__all__ = [
    "EXT", "MAGIC", "DamagedArrays", "PostingArrays", "check_slices", "open_arrays", "open_mapped", "pack",
]

#: File extension of a segment's posting arrays (Whoosh's cleanup removes it with the segment).
EXT = ".fsp"
MAGIC = b"FSP2"
#: Weight array type codes; 0 means every weight is 1.0 and none is stored.
WEIGHT_CODES = ("", "B", "H", "I", "d")
_WEIGHT_DTYPES = (None, np.dtype("<u1"), np.dtype("<u2"), np.dtype("<u4"), np.dtype("<f8"))
#: Integer array types by width code (0: none stored).
_WIDTH_DTYPES = (None, np.dtype("<u1"), np.dtype("<u2"), np.dtype("<u4"))
#: The same types for Python's array module (4 bytes for "I" on every platform numpy runs on).
_TYPECODES = ("", "B", "H", "I")
# Arrays are stored little-endian; flipped on a big-endian machine.
_SWAP = struct.pack("=I", 1) != struct.pack("<I", 1)
#: Postings whose decoded document numbers (and position offsets, once asked for) a segment
#: keeps, 8 to 16 bytes each: a query reads the same terms again and again (scores, then
#: phrases and proximity, then one snippet per hit), and decoding a list costs a pass over it.
CACHED_POSTINGS = 1_000_000
#: ... or this many times the segment's documents, when that is more.
CACHED_POSTINGS_PER_DOC = 16
#: Posting lists shorter than this are packed without numpy (its per-call cost dominates there).
SMALL_LIST = 48


class DamagedArrays(ValueError):
    """A posting arrays file whose bytes do not hold what was written."""


class EntryFinder(Protocol):
    def entry(self, fieldname: str, btext: bytes) -> tuple[int, int, int, int] | None:
        """(offset, length, count, first document number) of a term's entry, or None."""


def _width(largest: int) -> int:
    """The width code of the narrowest unsigned type that holds ``largest``."""
    return 1 if largest < 1 << 8 else 2 if largest < 1 << 16 else 3


def _narrow(values: np.ndarray, code: int) -> bytes:
    return values.astype(_WIDTH_DTYPES[code]).tobytes() if code else b""


def pack(ids: Sequence[int], weights: Sequence[float], values: Sequence[bytes] | None) -> bytes:
    """The entry of one posting list: ids ascending (at least one), one weight each, and with
    ``values`` each posting's FrenchPositions value (a 4-byte count, then the positions)."""
    count = len(ids)
    if count < SMALL_LIST or count == 1:
        return _pack_small(ids, weights, values)
    wvec = np.asarray(weights, dtype=np.float64)
    top = wvec.max()
    if wvec.min() == 1.0 and top == 1.0:
        wcode = 0
    elif wvec.min() >= 0 and np.array_equal(wvec, np.floor(wvec)):
        wcode = 1 if top < 1 << 8 else 2 if top < 1 << 16 else 3 if top < 1 << 32 else 4
    else:
        wcode = 4
    after = np.asarray(ids[1:], dtype=np.int64) - ids[0]
    idcode = _width(int(after[-1]))
    parts = [b"", _narrow(after, idcode)]
    if wcode:
        parts.append(wvec.astype(_WEIGHT_DTYPES[wcode]).tobytes())
    poscode = ccode = 0
    if values is not None:
        counts = (np.fromiter(map(len, values), dtype=np.int64, count=count) - 4).clip(0) >> 2
        positions = np.frombuffer(b"".join([v[4:] for v in values]), dtype="<u4")
        poscode = _width(int(positions.max())) if len(positions) else 1
        if not np.array_equal(counts, wvec):
            ccode = _width(int(counts.max()))
            parts.append(_narrow(counts, ccode))
        parts.append(_narrow(positions, poscode))
    parts[0] = bytes((idcode | wcode << 4, poscode | ccode << 4))
    return b"".join(parts)


def _pack_small(ids: Sequence[int], weights: Sequence[float], values: Sequence[bytes] | None) -> bytes:
    """pack() of a short posting list (most terms have a few postings), without numpy."""
    distinct = set(weights)
    wcode = 0
    if distinct != {1.0}:
        top = max(distinct)
        if min(distinct) >= 0 and all(float(w).is_integer() for w in distinct):
            wcode = 1 if top < 1 << 8 else 2 if top < 1 << 16 else 3 if top < 1 << 32 else 4
        else:
            wcode = 4
    idcode = 0
    parts = [b"", b""]
    if len(ids) > 1:
        first = ids[0]
        after = [i - first for i in ids[1:]]
        idcode = _width(after[-1])
        parts[1] = _tobytes(array(_TYPECODES[idcode], after))
    if wcode == 4:
        parts.append(_tobytes(array("d", weights)))
    elif wcode:
        parts.append(_tobytes(array(_TYPECODES[wcode], map(int, weights))))
    poscode = ccode = 0
    if values is not None:
        counts = [max(0, len(v) - 4) >> 2 for v in values]
        positions = array("I")
        positions.frombytes(b"".join([v[4 : 4 + 4 * n] for v, n in zip(values, counts)]))
        if _SWAP:
            positions.byteswap()
        poscode = _width(max(positions)) if positions else 1
        if counts != list(weights):
            ccode = _width(max(counts))
            parts.append(_tobytes(array(_TYPECODES[ccode], counts)))
        parts.append(positions.tobytes() if poscode == 3 and not _SWAP else _tobytes(array(_TYPECODES[poscode], positions)))
    parts[0] = bytes((idcode | wcode << 4, poscode | ccode << 4))
    return b"".join(parts)


def _tobytes(values: array) -> bytes:
    if _SWAP:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


class _MappedFile(StructFile):
    """A memory-mapped file read by slicing (Whoosh's StructFile seeks and reads)."""

    def __init__(self, mapped: mmap.mmap, name: str) -> None:
        super().__init__(mapped, name=name)
        self._map = mapped

    def get(self, position: int, length: int) -> bytes:
        return self._map[position : position + length]

    def vector(self, position: int, count: int, dtype: np.dtype) -> np.ndarray:
        """``count`` values at ``position``, read in place (no copy)."""
        return np.frombuffer(self._map, dtype, count, position)


class _Entry:
    """Where the arrays of one entry lie in the file."""

    __slots__ = ("count", "first", "idcode", "wcode", "poscode", "ccode", "ids_at", "weights_at",
                 "counts_at", "positions_at", "npositions")

    def __init__(self, codes: bytes, offset: int, length: int, count: int, first: int, name: str) -> None:
        if len(codes) != 2 or count < 1:
            raise DamagedArrays(f"{name} has a bad entry")
        self.count, self.first = count, first
        self.idcode, self.wcode = codes[0] & 15, codes[0] >> 4
        self.poscode, self.ccode = codes[1] & 15, codes[1] >> 4
        if self.idcode > 3 or self.wcode > 4 or self.poscode > 3 or self.ccode > 3 or (
            self.ccode and not self.poscode
        ) or (self.idcode == 0) != (count == 1):
            raise DamagedArrays(f"{name} has a bad entry")
        self.ids_at = offset + 2
        self.weights_at = self.ids_at + _size(self.idcode) * (count - 1)
        self.counts_at = self.weights_at + (_WEIGHT_DTYPES[self.wcode].itemsize if self.wcode else 0) * count
        self.positions_at = self.counts_at + _size(self.ccode) * count
        rest = offset + length - self.positions_at
        self.npositions = 0
        if self.poscode:
            self.npositions, extra = divmod(rest, _size(self.poscode))
        elif rest:
            extra = rest
        else:
            extra = 0
        if rest < 0 or extra:
            raise DamagedArrays(f"{name} has a bad entry")


def _size(code: int) -> int:
    return 0 if not code else 1 << (code - 1)


class PostingArrays:
    """The posting arrays of one segment, read on demand.

    ``finder`` finds a term's entry (the segment's term dictionary); ``dbfile``
    is the ``.fsp`` file, memory-mapped when it is on disk. The files are the
    finder's (a Whoosh terms reader) to close.
    """

    def __init__(self, finder: EntryFinder, dbfile: Any, doc_count: int, name: str = EXT) -> None:
        self._finder = finder
        self._file = dbfile
        self._size = len(dbfile._map) if isinstance(dbfile, _MappedFile) else None
        self._doc_count = doc_count
        self._name = name
        self._decoded: dict[tuple[str, bytes], list[Any]] = {}  # [entry, ids, offsets or None]
        self._decoded_postings = 0

    def close(self) -> None:
        """Nothing to do: the files are the terms reader's (see ArrayTermsReader.close)."""

    def _vector(self, position: int, count: int, dtype: np.dtype) -> np.ndarray:
        """``count`` values of ``dtype`` at ``position``: in place when the file is mapped."""
        if self._size is not None:
            if position + count * dtype.itemsize > self._size:
                raise DamagedArrays(f"{self._name} is shorter than its entries say")
            return self._file.vector(position, count, dtype)
        raw = self._file.get(position, count * dtype.itemsize)
        if len(raw) != count * dtype.itemsize:
            raise DamagedArrays(f"{self._name} is shorter than its entries say")
        return np.frombuffer(raw, dtype)

    def _locate(self, fieldname: str, btext: bytes) -> _Entry | None:
        found = self._finder.entry(fieldname, btext)
        if found is None:
            return None
        offset, length, count, first = found
        if count > self._doc_count or offset < len(MAGIC) or (self._size is not None and offset + length > self._size):
            raise DamagedArrays(f"{self._name} has a bad entry")
        return _Entry(self._file.get(offset, 2), offset, length, count, first, self._name)

    def _ids(self, entry: _Entry) -> np.ndarray:
        """The document numbers of an entry, ascending (int64)."""
        first = entry.first
        ids = np.empty(entry.count, dtype=np.int64)
        ids[0] = first
        if entry.count > 1:
            after = ids[1:]
            after[:] = self._vector(entry.ids_at, entry.count - 1, _WIDTH_DTYPES[entry.idcode])
            after += first
        # Ascending as written: the last is the largest (only the last is checked, as a lookup
        # should not cost a pass over every id).
        if int(ids[-1]) >= self._doc_count:
            raise DamagedArrays(f"{self._name} has a document number out of range")
        return ids

    def _weights(self, entry: _Entry) -> np.ndarray | None:
        if not entry.wcode:
            return None
        return self._vector(entry.weights_at, entry.count, _WEIGHT_DTYPES[entry.wcode])

    def _offsets(self, entry: _Entry) -> np.ndarray:
        """Where each posting's positions start, and the end (count + 1 values, int64)."""
        if entry.ccode:
            counts = self._vector(entry.counts_at, entry.count, _WIDTH_DTYPES[entry.ccode])
        elif entry.wcode:
            counts = self._weights(entry)
        else:
            counts = np.ones(entry.count, dtype=np.int64)
        offsets = np.zeros(entry.count + 1, dtype=np.int64)
        np.cumsum(counts, dtype=np.int64, out=offsets[1:])
        if offsets[-1] != entry.npositions:
            raise DamagedArrays(f"{self._name} has bad position offsets")
        return offsets

    def doc_frequency(self, fieldname: str, btext: bytes) -> int:
        """How many postings a term has (deleted documents included), from its dictionary
        entry alone: Whoosh's doc_frequency() without its layers of readers."""
        found = self._finder.entry(fieldname, btext)
        return 0 if found is None else found[2]

    def postings(self, fieldname: str, btext: bytes) -> tuple[list[int], list[float] | None] | None:
        """(document numbers, weights or None when all are 1.0) of a term, or None."""
        found = self.vectors(fieldname, btext)
        if found is None:
            return None
        ids, weights = found
        return ids.tolist(), None if weights is None else weights.tolist()

    def vectors(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray | None] | None:
        """As :meth:`postings`, as numpy arrays: ids int64 and read-only (kept for the next
        lookups), weights in their stored integer or float type, read in place when the file
        is mapped (use them, don't keep them)."""
        found = self._decode(fieldname, btext)
        if found is None:
            return None
        return found[1], self._weights(found[0])

    def _decode(self, fieldname: str, btext: bytes) -> list[Any] | None:
        """[entry, ids, offsets or None] of a term, kept for the next lookups, or None."""
        found = self._decoded.get((fieldname, btext))
        if found is None:
            entry = self._locate(fieldname, btext)
            if entry is None:
                return None
            ids = self._ids(entry)
            ids.flags.writeable = False  # shared by later lookups
            if self._decoded_postings + entry.count > max(CACHED_POSTINGS, CACHED_POSTINGS_PER_DOC * self._doc_count):
                self._decoded.clear()
                self._decoded_postings = 0
            found = self._decoded[fieldname, btext] = [entry, ids, None]
            self._decoded_postings += entry.count
        return found

    def position_vectors(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(ids, offsets, positions) of every posting of a term, or None without positions.

        The positions are read in place when the file is mapped: use them, don't keep them.
        The ids and offsets (int64) are kept for the next lookups, and read-only.
        """
        found = self._decode(fieldname, btext)
        if found is None or not found[0].poscode:
            return None
        entry, ids, offsets = found
        if offsets is None:
            offsets = found[2] = self._offsets(entry)
            offsets.flags.writeable = False
        positions = self._vector(entry.positions_at, entry.npositions, _WIDTH_DTYPES[entry.poscode])
        return ids, offsets, positions

    def positions(self, fieldname: str, btext: bytes, wanted: Sequence[int]) -> dict[int, list[int]]:
        """{segment docnum: positions} of a term for the ``wanted`` documents that have it."""
        found = self.position_vectors(fieldname, btext)
        if found is None:
            return {}
        ids, offsets, positions = found
        out: dict[int, list[int]] = {}
        for docnum in wanted:
            i = int(ids.searchsorted(docnum))
            if i < len(ids) and ids[i] == docnum:
                out[docnum] = positions[offsets[i] : offsets[i + 1]].tolist()
        return out

    def values(self, fieldname: str, btext: bytes) -> tuple[list[int], list[float], list[bytes] | None] | None:
        """(ids, weights, FrenchPositions values or None) of a term, as Whoosh's writers gave
        them (for Whoosh's matchers: segment merging, for one)."""
        entry = self._locate(fieldname, btext)
        if entry is None:
            return None
        ids = self._ids(entry)
        weights = self._weights(entry)
        weight_list = [1.0] * entry.count if weights is None else weights.astype(np.float64).tolist()
        if not entry.poscode:
            return ids.tolist(), weight_list, None
        offsets = self._offsets(entry).tolist()
        raw = self._vector(entry.positions_at, entry.npositions, _WIDTH_DTYPES[entry.poscode])
        blob = raw.astype("<u4").tobytes()
        values = [
            (hi - lo).to_bytes(4, "big") + blob[4 * lo : 4 * hi] for lo, hi in zip(offsets, offsets[1:])
        ]
        return ids.tolist(), weight_list, values


def check_slices(starts: np.ndarray, lengths: np.ndarray, size: int) -> None:
    """DamagedArrays unless the slices of positions that offsets give are inside the positions."""
    if len(lengths) and (lengths.min() < 0 or int((starts + lengths).max()) > size):
        raise DamagedArrays("a posting arrays file has bad position offsets")


def open_arrays(leaf: Any) -> PostingArrays:
    """The posting arrays of a segment reader (its terms reader holds them).

    DamagedArrays for a segment that has none: every segment frsearch writes has them.
    """
    arrays = getattr(getattr(leaf, "_terms", None), "arrays", None)
    if not isinstance(arrays, PostingArrays):
        raise DamagedArrays(f"a segment has no posting arrays ({EXT})")
    return arrays


def open_mapped(storage: Any, name: str) -> StructFile:
    """A file of the storage, memory-mapped when it is on disk (reads are then slices)."""
    if isinstance(storage, FileStorage):
        with open(os.path.join(storage.folder, name), "rb") as f:
            if os.fstat(f.fileno()).st_size:
                return _MappedFile(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), name)
    return storage.open_file(name)
