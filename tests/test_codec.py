"""frsearch's codec: postings written once, as arrays, and Whoosh served from them.

Whoosh's stock W3 codec is the reference: an index written with frsearch's codec
gives Whoosh's readers (matchers, term statistics, lexicons) what the stock one does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import TEXT
from whoosh.filedb.filestore import RamStorage

import frsearch
from frsearch import postings
from frsearch.codec import ArrayCodec, LeanSegmentWriter
from frsearch.documents import read_document
from frsearch.index import KIND_DOC, _fields_of, make_schema
from frsearch.search import Engine
from frsearch.storage import PrivateTempRamStorage

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def sample_documents() -> list[frsearch.Document]:
    docs = [read_document(str(p)) for p in sorted(SEEDS.glob("*.txt"))]
    words = " ".join(d.body for d in docs).split()
    # Enough documents for several posting blocks per common term.
    for i in range(400):
        body = " ".join(words[(i * 37) % len(words) :][: 50 + i % 90])
        docs.append(frsearch.Document(id=f"gen{i}", title=" ".join(words[i : i + 6]), body=body))
    for i, doc in enumerate(docs):
        doc.id = f"d{i}"
    return docs


def build(codec: W3Codec, compound: bool = True) -> object:
    ix = RamStorage().create_index(make_schema(), indexname="MAIN")
    writer = ix.writer(codec=codec, compound=compound)
    for doc in sample_documents():
        writer.add_document(**_fields_of(doc, KIND_DOC))
    writer.commit()
    return ix


def _info(info: object) -> tuple:
    return tuple(getattr(info, name)() for name in (
        "weight", "doc_frequency", "min_length", "max_length", "max_weight", "min_id", "max_id"))


def dump(ix: object) -> list:
    """Every posting, term statistic and field length, as Whoosh's readers give them."""
    out = []
    with ix.searcher() as searcher:
        reader = searcher.reader()
        for field in ("id", "kind", "title", "body"):
            for term in reader.lexicon(field):
                m = reader.postings(field, term)
                found = []
                while m.is_active():
                    value = tuple(m.value_as("positions")) if field in ("title", "body") else m.value() or None
                    found.append((m.id(), m.weight(), value))
                    m.next()
                out.append((field, term, reader.doc_frequency(field, term), reader.frequency(field, term),
                            _info(reader.term_info(field, term)), found))
            out.append((field, list(reader.expand_prefix(field, "pr")), sorted(reader.terms_within(field, "chine", 1))))
        for field in ("title", "body"):
            out.append((field, [reader.doc_field_length(d, field) for d in range(reader.doc_count_all())]))
    return out


def test_array_codec_gives_whoosh_the_postings_and_statistics_of_the_stock_codec() -> None:
    ours = dump(build(ArrayCodec()))
    assert ours == dump(build(W3Codec()))
    assert len(ours) > 1000


def test_array_codec_writes_postings_once() -> None:
    ix = build(ArrayCodec(), compound=False)
    files = list(ix.storage.list())
    assert any(name.endswith(postings.EXT) for name in files)
    assert not any(name.endswith(W3Codec.POSTS_EXT) for name in files)  # no Whoosh blocks


def test_merging_segments_reads_postings_from_the_arrays(tmp_path) -> None:
    """Whoosh merges small segments at commit by reading every posting through the codec's
    matchers: the merged index has the postings of one built in a single commit."""
    docs = sample_documents()
    with frsearch.Index(tmp_path / "merged") as merged:
        for start in range(0, len(docs), 40):  # many small commits: Whoosh merges them
            merged.add_documents(docs[start : start + 40])
        merged.delete(docs[3].id)
        merged.add_documents([docs[3]])  # deleted, then added again at the end
        assert len(merged._ix._segments()) < len(docs) // 40
        with frsearch.Index(tmp_path / "single") as single:
            single.add_documents(docs)
            assert by_id(merged) == by_id(single)
            # (Scores differ: the merged index still counts the deleted copy in its statistics.)
            for query in ["Lei Jun blacklist", '"liste noire"', "xiaomy~", "smart*"]:
                a = {h.id for h in merged.search(query, limit=500)}
                assert a == {h.id for h in single.search(query, limit=500)}, query
                assert a, query


def by_id(index: frsearch.Index) -> dict:
    """{(field, term): {document id: (weight, positions)}} of the live documents."""
    out: dict = {}
    with index._ix.searcher() as searcher:
        reader = searcher.reader()
        ids = {d: fields["id"] for d, fields in reader.iter_docs()}
        for field in ("title", "body"):
            for term in reader.lexicon(field):
                m = reader.postings(field, term)
                while m.is_active():
                    out.setdefault((field, term), {})[ids[m.id()]] = (m.weight(), tuple(m.value_as("positions")))
                    m.next()
    return out


def test_a_segment_without_posting_arrays_is_damage() -> None:
    """Every segment frsearch writes has posting arrays: one written by another codec is damage."""
    with pytest.raises(postings.DamagedArrays):
        Engine(build(W3Codec()).searcher()).search("Xiaomi")


def test_an_index_whose_posting_arrays_are_gone_is_reported_as_damaged(tmp_path) -> None:
    with frsearch.Index(tmp_path / "ix") as index:
        index.add("a", "Titre", "Les États-Unis ont placé Xiaomi sur liste noire.")
    for path in (tmp_path / "ix").glob("*" + postings.EXT):
        path.unlink()
    with pytest.raises(frsearch.IndexFormatError, match="damaged"):
        with frsearch.Index.open(tmp_path / "ix") as index:
            index.search("Xiaomi")


def test_the_codec_refuses_values_it_would_not_keep() -> None:
    """Only FrenchPositions values are kept: another format's values would be lost, so they
    are refused rather than dropped."""
    from whoosh.fields import Schema
    from whoosh.formats import Characters

    ix = RamStorage().create_index(Schema(text=TEXT(phrase=True)), indexname="MAIN")
    ix.schema["text"].format = Characters()
    writer = ix.writer(codec=ArrayCodec())
    writer.add_document(text="des mots")
    with pytest.raises(ValueError, match="positions"):
        writer.commit()


def test_lean_writer_spilling_many_sort_runs_writes_the_same_index() -> None:
    # A tiny memory limit makes the writer spill hundreds of sort runs, more than
    # Whoosh merges at once, so runs are also merged into runs before the end.
    storage = PrivateTempRamStorage()
    ix = storage.create_index(make_schema(), indexname="MAIN")
    writer = LeanSegmentWriter(ix, codec=ArrayCodec(), limitmb=0.02)
    for doc in sample_documents():
        writer.add_document(**_fields_of(doc, KIND_DOC))
    assert len(writer.pool.runs) > 128
    writer.commit()
    try:
        assert dump(ix) == dump(build(W3Codec()))
    finally:
        storage.remove_temp_folder()


def test_lean_writer_leaves_plain_text_fields_in_the_index_schema(tmp_path) -> None:
    # The writer indexes French text fields in one step through a subclass of TEXT
    # on its own copy of the schema; the schema it writes must still be plain TEXT.
    with frsearch.Index(tmp_path / "ix") as index:
        index.add("a", "Titre", "Les États-Unis ont placé Xiaomi sur liste noire.")
        # The index's own schema object (shared with its searchers) is left alone.
        assert type(index._ix.schema["body"]) is TEXT
    toc = b"".join(p.read_bytes() for p in (tmp_path / "ix").glob("*.toc"))
    assert toc and b"_FrenchText" not in toc
    with frsearch.Index.open(tmp_path / "ix") as index:
        schema = index._ix.schema
        assert type(schema["title"]) is TEXT and type(schema["body"]) is TEXT
        assert [hit.id for hit in index.search("etats unis")] == ["a"]


def test_parallel_build_gives_the_same_hits(tmp_path, monkeypatch) -> None:
    import frsearch.index as index_module

    docs = [{"id": d.id, "title": d.title, "body": d.body} for d in sample_documents()]
    monkeypatch.setattr(index_module, "PARALLEL_MIN_DOCS", 100)
    with frsearch.Index(tmp_path / "parallel") as parallel:
        parallel.add_documents(iter(docs))
        segments = len(parallel._ix._segments())
        monkeypatch.setattr(index_module, "PARALLEL_MIN_DOCS", 10**9)
        with frsearch.Index(tmp_path / "simple") as simple:
            simple.add_documents(iter(docs))
            assert len(simple._ix._segments()) == 1
            assert segments == 2  # one segment per process
            for query in ["Lei Jun blacklist", "etats unis", '"liste noire"', "Xiaomi SAUF Facebook",
                          "smart*", "xiaomy~", "title:Singapour"]:
                a = {h.id: round(h.score, 6) for h in parallel.search(query, limit=500)}
                b = {h.id: round(h.score, 6) for h in simple.search(query, limit=500)}
                assert a == b, query
