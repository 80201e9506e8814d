"""frsearch's Whoosh codec: postings written once, as the arrays queries read.

A segment keeps Whoosh's term dictionary (``.trm``), per-document columns and
stored fields (W3Codec's), but its postings are written once, as the posting
arrays of frsearch.postings (``.fsp``), instead of Whoosh's blocks of pickled,
zlib-compressed lists. Each term's term info (its statistics, as W3Codec
writes them) points at its entry. Whoosh's own readers are served from the
arrays: its matchers (segment merging reads every posting through them),
``doc_frequency``, ``frequency``, ``term_info``, lexicons and prefixes.

The writers here also cut Whoosh's per-posting overhead when indexing. The
codec object is pickled into each segment's table of contents entry, so this
module's path and the class names are part of the on-disk format.
"""

from __future__ import annotations

import copyreg
import pickle
import struct
from itertools import islice
from typing import Any, Iterable, Iterator

from whoosh import multiproc
from whoosh.codec.base import FieldWriter
from whoosh.codec.whoosh3 import W3Codec, W3TermInfo, W3TermsReader
from whoosh.fields import TEXT
from whoosh.filedb.filetables import OrderedHashWriter
from whoosh.matching import ListMatcher
from whoosh.reading import TermNotFound
from whoosh.system import pack_ushort
from whoosh.writing import PostingPool, SegmentWriter

from frsearch import postings as posting_arrays
from frsearch.analysis import FrenchPositions
from frsearch.postings import DamagedArrays, PostingArrays

__all__ = ["ArrayCodec", "ArrayTermsReader", "LeanMpWriter", "LeanSegmentWriter"]

#: Postings pickled together in a sort run (Whoosh pickles each posting on its own).
RUN_CHUNK = 4096
# A W3TermInfo that points into the postings file: its statistics, then offset and length.
_TERM_INFO = struct.Struct("!BfIBBfIIqI")


class ArrayCodec(W3Codec):
    """W3Codec whose postings are frsearch's posting arrays (one ``.fsp`` file a segment)."""

    def field_writer(self, storage: Any, segment: Any) -> "ArrayFieldWriter":
        return ArrayFieldWriter(self, storage, segment)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> Any:
        raise NotImplementedError("ArrayCodec writes posting lists through its field writer")

    def terms_reader(self, storage: Any, segment: Any) -> "ArrayTermsReader":
        # The term dictionary and the postings memory-mapped: looking up words, walking the
        # terms of a prefix and reading posting lists are slices.
        name = segment.make_filename(self.TERMS_EXT)
        length = storage.file_length(name)
        terms = posting_arrays.open_mapped(storage, name)
        try:
            postfile = posting_arrays.open_mapped(storage, segment.make_filename(posting_arrays.EXT))
        except BaseException:
            terms.close()
            raise
        try:
            return ArrayTermsReader(self, terms, length, postfile, segment.doc_count_all())
        except BaseException:
            terms.close()
            postfile.close()
            raise


class ArrayTermsReader(W3TermsReader):
    """Whoosh's terms reader over the term dictionary, with postings read from the arrays."""

    def __init__(self, codec: Any, dbfile: Any, length: int, postfile: Any, doc_count: int) -> None:
        super().__init__(codec, dbfile, length, postfile)
        name = getattr(postfile, "_name", None) or posting_arrays.EXT
        if postfile.get(0, len(posting_arrays.MAGIC)) != posting_arrays.MAGIC:
            raise DamagedArrays(f"{name} is not a posting arrays file")
        #: What queries read (frsearch.search), and Whoosh's matchers too.
        self.arrays = PostingArrays(self, postfile, doc_count, name)

    def entry(self, fieldname: str, btext: bytes) -> tuple[int, int, int, int] | None:
        """(offset, length, count, first document number) of a term's posting arrays, or None."""
        try:
            pos, length = self._range_for_key(fieldname, btext)
        except KeyError:
            return None
        raw = self._dbfile.get(pos, _TERM_INFO.size)
        if length != _TERM_INFO.size or len(raw) != _TERM_INFO.size:
            raise DamagedArrays("the term dictionary has a bad term info")
        flags, _w, df, _ml, _xl, _mw, minid, _maxid, offset, size = _TERM_INFO.unpack(raw)
        if flags:
            raise DamagedArrays("the term dictionary has a bad term info")
        return offset, size, df, minid

    def with_prefix(self, fieldname: str, prefix: bytes) -> list[bytes]:
        """The terms of a field that begin with ``prefix``, in order: the dictionary read from
        the first of them until one does not (Whoosh's readers merge a generator per segment,
        each reading on past the prefix, and decode each key)."""
        if fieldname not in self._fieldmap:
            return []
        start = self._keycoder(fieldname, prefix)
        dbfile = self._tindex.dbfile
        out = []
        for keypos, keylen, _datapos, _datalen in self._tindex.ranges_from(start):
            key = dbfile.get(keypos, keylen)
            if not key.startswith(start):
                break
            out.append(key[len(start) - len(prefix):])
        return out

    def matcher(self, fieldname: str, tbytes: bytes, format_: Any, scorer: Any = None) -> ListMatcher:
        terminfo = self.term_info(fieldname, tbytes)
        found = self.arrays.values(fieldname, tbytes)
        if found is None:  # the term info was found a moment ago: the dictionary is damaged
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        ids, weights, values = found
        return ListMatcher(ids, weights, values, format_, scorer=scorer, term=(fieldname, tbytes), terminfo=terminfo)

    def close(self) -> None:
        self._tindex.close()
        try:
            self._postfile.close()
        except BufferError:
            # Arrays read in place are still held (by a caller's traceback, say): the
            # map is released with the last of them.
            pass


class ArrayFieldWriter(FieldWriter):
    """Writes each posting list once, as posting arrays, and its term info to the dictionary.

    The term infos are W3Codec's (statistics for Whoosh's readers), pointing at the
    arrays; postings are added from a sorted stream the way Whoosh's FieldWriter
    adds them, without its per-posting calls and lookups.
    """

    def __init__(self, codec: Any, storage: Any, segment: Any) -> None:
        self._tindex = OrderedHashWriter(segment.create_file(storage, codec.TERMS_EXT))
        self._fieldmap: dict[str, int] = {}
        self._tindex.extras["fieldmap"] = self._fieldmap
        self._postfile = segment.create_file(storage, posting_arrays.EXT)
        self._postfile.write(posting_arrays.MAGIC)
        self._fieldname: str | None = None
        self._prefix = b""
        self._positions = False
        self._btext = b""
        self._ids: list[int] = []
        self._weights: list[float] = []
        self._values: list[bytes] = []
        self._lengths: list[int] = []
        self.is_closed = False

    def start_field(self, fieldname: str, fieldobj: Any) -> None:
        fieldid = self._fieldmap.setdefault(fieldname, len(self._fieldmap))
        self._fieldname = fieldname
        self._prefix = pack_ushort(fieldid)
        self._positions = type(fieldobj.format) is FrenchPositions

    def start_term(self, btext: bytes) -> None:
        self._btext = btext
        self._ids = []
        self._weights = []
        self._values = []
        self._lengths = []

    def add(self, docnum: int, weight: float, vbytes: bytes, length: int) -> None:
        self._ids.append(docnum)
        self._weights.append(weight)
        self._values.append(vbytes or b"")
        self._lengths.append(length or 0)

    def finish_term(self) -> None:
        ids, weights = self._ids, self._weights
        if self._positions:
            values = self._values
        elif any(self._values):
            raise ValueError(f"field {self._fieldname!r}: this codec keeps positions of FrenchPositions fields only")
        else:
            values = None
        entry = posting_arrays.pack(ids, weights, values)
        offset = self._postfile.tell()
        self._postfile.write(entry)
        # The statistics Whoosh's W3 writer keeps (lengths of 0 do not count).
        info = W3TermInfo()
        info._weight = float(sum(weights))
        info._df = len(ids)
        lengths = [n for n in self._lengths if n]
        info._minlength = min(lengths) if lengths else None
        info._maxlength = max(lengths) if lengths else 0
        info._maxweight = max(weights)
        info._minid, info._maxid = ids[0], ids[-1]
        info.set_extent(offset, len(entry))
        self._tindex.add(self._prefix + self._btext, info.to_bytes())

    def close(self) -> None:
        self._tindex.close()
        self._postfile.close()
        self.is_closed = True

    def add_postings(self, schema: Any, lengths: Any, items: Iterable[tuple]) -> None:
        doc_count = lengths.doc_count_all() if lengths is not None else 0
        field_lengths: dict[str, list[int]] = {}
        last_field = None
        last_text = None
        table: list[int] = []
        ids: list[int] = []
        weights: list[float] = []
        values: list[bytes] = []
        term_lengths: list[int] = []
        for fieldname, btext, docnum, weight, value in items:
            if fieldname != last_field:
                if last_text is not None:
                    self.finish_term()
                self.start_field(fieldname, schema[fieldname])
                last_field = fieldname
                last_text = None
                table = field_lengths.get(fieldname) or []
                if lengths is not None and fieldname not in field_lengths:
                    table = [lengths.doc_field_length(d, fieldname) or 0 for d in range(doc_count)]
                    field_lengths[fieldname] = table
            if docnum == -1:  # a spelling-only posting, as in Whoosh's writer
                continue
            if btext != last_text:
                if last_text is not None:
                    self.finish_term()
                self.start_term(btext)
                last_text = btext
                ids, weights, values, term_lengths = self._ids, self._weights, self._values, self._lengths
            ids.append(docnum)
            weights.append(weight)
            values.append(value or b"")
            term_lengths.append(table[docnum] if docnum < len(table) else 0)
        if last_text is not None:
            self.finish_term()


class LeanPostingPool(PostingPool):
    """Whoosh's posting pool, with sort runs written and read a chunk of postings at a time.

    A writer sorts postings in memory up to ``limitmb`` (Whoosh's estimate) and
    spills each sorted run to a temporary file; the runs are merged at commit.
    Whoosh pickles and unpickles every posting with its own call (about 10 µs
    each: a sixth of the writer processes' time on the 121 MB benchmark corpus);
    here a call handles RUN_CHUNK postings. The memory estimate, so when runs are spilled,
    and the merged order are Whoosh's.
    """

    def add(self, item: tuple) -> None:
        # PostingPool.add without its type assertions; the same size estimate.
        self.fieldnames.add(item[0])
        self.currentsize += 150 + len(item[0]) + 2 * len(item[1]) + len(item[4] or b"")
        if self.currentsize > self.limit:
            self.save()
        self.current.append(item)

    def _write_run(self, f: Any, items: Iterable[tuple]) -> None:
        iterator = iter(items)
        while chunk := list(islice(iterator, RUN_CHUNK)):
            pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)
        f.close()

    def _read_run(self, path: str) -> Iterator[tuple]:
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = pickle.load(f)
                except EOFError:
                    return
                yield from chunk
        finally:
            f.close()
            self._remove_run(path)


class _FrenchText(TEXT):
    """A TEXT field with the FrenchPositions format, whose postings come in one list.

    Only a writer's private copy of the schema holds these (see LeanSegmentWriter);
    they are pickled as TEXT, so the index's schema never names this class.
    """

    def index(self, value: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not kwargs:
            return self.format.index_items(value)
        return super().index(value, **kwargs)

    def __reduce_ex__(self, protocol: Any) -> Any:
        # Unpickled as a plain TEXT with the same attributes (TEXT has no __getstate__).
        return (copyreg._reconstructor, (TEXT, object, None), self.__dict__)


class LeanSegmentWriter(SegmentWriter):
    """Whoosh's SegmentWriter with a LeanPostingPool, and French text fields indexed in one step."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        # Replaced while still empty; the same temporary storage, segment and limit.
        pool = LeanPostingPool(self._tempstorage, self.newsegment)
        pool.limit = self.pool.limit
        self.pool = pool
        # A copy of its own (an index created in this process hands every writer its
        # schema object), as the table of contents would give it: pickled and read back.
        self.schema = pickle.loads(pickle.dumps(self.schema, pickle.HIGHEST_PROTOCOL))
        for name in self.schema.names():
            field = self.schema[name]
            if type(field) is TEXT and type(field.format) is FrenchPositions:
                field.__class__ = _FrenchText


class _LeanSubWriterTask(multiproc.SubWriterTask):
    def run(self) -> None:
        # This runs in a child process that exists for this task alone: the
        # SegmentWriter its Whoosh code creates may as well be the lean one.
        multiproc.SegmentWriter = LeanSegmentWriter
        super().run()


class LeanMpWriter(multiproc.MpWriter):
    """Whoosh's multiprocess writer whose worker processes use LeanSegmentWriter."""

    def _new_task(self) -> Any:
        task = _LeanSubWriterTask(
            self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, self.multisegment
        )
        self.tasks.append(task)
        task.start()
        return task
