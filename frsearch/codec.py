"""Whoosh's W3 codec with a leaner posting writer, for indexing speed.

At commit time Whoosh's field writer looks up the length of the document for
every single posting and runs four type assertions per posting. This writer
reads each field's lengths once and appends postings directly; the blocks it
writes are the ones the stock writer writes (tests/test_codec.py checks that
every posting, weight and position comes out the same). The codec object is
pickled into each segment's table of contents entry, so this class's import
path is part of the on-disk format.
"""

from __future__ import annotations

from typing import Any, Iterable

from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter

__all__ = ["LeanW3Codec"]


class LeanW3Codec(W3Codec):
    """W3Codec whose field writer adds postings without per-posting lookups."""

    def field_writer(self, storage: Any, segment: Any) -> "LeanFieldWriter":
        return LeanFieldWriter(self, storage, segment)


class LeanFieldWriter(W3FieldWriter):
    """Adds a sorted stream of postings the way Whoosh's FieldWriter does, with less overhead."""

    def add_postings(self, schema: Any, lengths: Any, items: Iterable[tuple]) -> None:
        doc_count = lengths.doc_count_all() if lengths is not None else 0
        field_lengths: dict[str, list[int]] = {}
        last_field = None
        last_text = None
        table: list[int] = []
        postwriter = None
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
            length = table[docnum] if docnum < len(table) else 0
            if value is None:
                value = b""
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
