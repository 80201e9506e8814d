"""The fast indexing path writes the same index as the straightforward one."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import TEXT
from whoosh.filedb.filestore import RamStorage

import frsearch
from frsearch.codec import LeanSegmentWriter, LeanW3Codec
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


def build(codec: W3Codec) -> object:
    ix = RamStorage().create_index(make_schema(), indexname="MAIN")
    writer = ix.writer(codec=codec)
    for doc in sample_documents():
        writer.add_document(**_fields_of(doc, KIND_DOC))
    writer.commit()
    return ix


def dump(ix: object) -> list:
    out = []
    with ix.searcher() as searcher:
        reader = searcher.reader()
        for field in ("title", "body"):
            for term in reader.lexicon(field):
                m = reader.postings(field, term)
                postings = []
                while m.is_active():
                    postings.append((m.id(), m.weight(), tuple(m.value_as("positions"))))
                    m.next()
                out.append((field, term, reader.doc_frequency(field, term), postings))
            out.append((field, [reader.doc_field_length(d, field) for d in range(reader.doc_count_all())]))
    return out


def test_lean_codec_writes_the_same_postings_and_lengths() -> None:
    assert dump(build(LeanW3Codec())) == dump(build(W3Codec()))


def test_lean_writer_spilling_many_sort_runs_writes_the_same_index() -> None:
    # A tiny memory limit makes the writer spill hundreds of sort runs, more than
    # Whoosh merges at once, so runs are also merged into runs before the end.
    storage = PrivateTempRamStorage()
    ix = storage.create_index(make_schema(), indexname="MAIN")
    writer = LeanSegmentWriter(ix, codec=LeanW3Codec(), limitmb=0.02)
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


def test_lean_codec_gives_the_hits_and_stock_whooshs_segments_are_damage() -> None:
    from frsearch.postings import DamagedArrays

    queries = ["Lei Jun blacklist", "etats unis", '"liste noire"', "Xiaomi SAUF Facebook", "smart*"]
    fast, simple = Engine(build(LeanW3Codec()).searcher()), Engine(build(W3Codec()).searcher())
    for query in queries:
        assert fast.search(query, limit=50).total, query
        with pytest.raises(DamagedArrays):  # segments without posting arrays: not ours
            simple.search(query, limit=50)


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
