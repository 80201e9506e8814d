"""Whoosh's W3 codec and writers with less per-posting overhead, for indexing speed.

At commit time Whoosh's field writer looks up the length of the document for
every single posting and runs four type assertions per posting. This writer
reads each field's lengths once and appends postings directly; the blocks it
writes are the ones the stock writer writes (tests/test_codec.py checks that
every posting, weight and position comes out the same). The codec object is
pickled into each segment's table of contents entry, so this class's import
path is part of the on-disk format.
"""

from __future__ import annotations

import copyreg
import pickle
from itertools import islice
from typing import Any, Iterable, Iterator

from whoosh import multiproc
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3TermsReader
from whoosh.fields import TEXT
from whoosh.writing import PostingPool, SegmentWriter

from frsearch import postings as posting_arrays
from frsearch.analysis import FrenchPositions

__all__ = ["LeanMpWriter", "LeanSegmentWriter", "LeanW3Codec"]

#: Postings pickled together in a sort run (Whoosh pickles each posting on its own).
RUN_CHUNK = 4096


class LeanW3Codec(W3Codec):
    """W3Codec whose field writer adds postings without per-posting lookups."""

    def field_writer(self, storage: Any, segment: Any) -> "LeanFieldWriter":
        return LeanFieldWriter(self, storage, segment)

    def terms_reader(self, storage: Any, segment: Any) -> W3TermsReader:
        # W3Codec.terms_reader with the term dictionary memory-mapped: looking up words and
        # walking the terms of a prefix read it key by key.
        name = segment.make_filename(self.TERMS_EXT)
        length = storage.file_length(name)
        terms = posting_arrays.open_mapped(storage, name)
        return W3TermsReader(self, terms, length, segment.open_file(storage, self.POSTS_EXT))


class LeanFieldWriter(W3FieldWriter):
    """Adds a sorted stream of postings the way Whoosh's FieldWriter does, with less overhead.

    Every posting list is also written to the segment's posting arrays
    (frsearch.postings), which queries read instead of Whoosh's blocks.
    """

    def __init__(self, codec: Any, storage: Any, segment: Any) -> None:
        super().__init__(codec, storage, segment)
        self._arrays = posting_arrays.create_writer(storage, segment)
        self._term_ids: list[int] = []
        self._term_weights: list[float] = []
        self._term_values: list[bytes] = []

    def start_term(self, btext: bytes) -> None:
        super().start_term(btext)
        self._term_ids = []
        self._term_weights = []
        self._term_values = []

    def add(self, docnum: int, weight: float, vbytes: bytes, length: int) -> None:
        super().add(docnum, weight, vbytes, length)
        self._term_ids.append(docnum)
        self._term_weights.append(weight)
        self._term_values.append(vbytes or b"")

    def finish_term(self) -> None:
        super().finish_term()
        values = self._term_values if type(self._format) is FrenchPositions else None
        entry = posting_arrays.pack(self._term_ids, self._term_weights, values)
        self._arrays.add(posting_arrays.key(self._fieldname, self._btext), entry)

    def close(self) -> None:
        super().close()
        self._arrays.close()

    def add_postings(self, schema: Any, lengths: Any, items: Iterable[tuple]) -> None:
        doc_count = lengths.doc_count_all() if lengths is not None else 0
        field_lengths: dict[str, list[int]] = {}
        last_field = None
        last_text = None
        table: list[int] = []
        postwriter = None
        term_ids: list[int] = []
        term_weights: list[float] = []
        term_values: list[bytes] = []
        for fieldname, btext, docnum, weight, value in items:
            if fieldname != last_field:
                if last_text is not None:
                    self.finish_term()
                if last_field is not None:
                    self.finish_field()
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
                postwriter = self._postwriter
                term_ids = self._term_ids
                term_weights = self._term_weights
                term_values = self._term_values
            length = table[docnum] if docnum < len(table) else 0
            if value is None:
                value = b""
            term_ids.append(docnum)
            term_weights.append(weight)
            term_values.append(value)
            # What W3PostingsWriter.add_posting does, without its type assertions.
            assert postwriter is not None
            ids = postwriter._ids
            if len(ids) >= postwriter._blocklimit:
                postwriter._write_block()
                ids = postwriter._ids
            ids.append(docnum)
            postwriter._weights.append(weight)
            if weight > postwriter._maxweight:
                postwriter._maxweight = weight
            if value:
                postwriter._values.append(value)
            if length:
                if postwriter._minlength is None or length < postwriter._minlength:
                    postwriter._minlength = length
                if length > postwriter._maxlength:
                    postwriter._maxlength = length
        if last_text is not None:
            self.finish_term()
        if last_field is not None:
            self.finish_field()


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
