"""The Index facade: create or open an index, add documents, sync folders, search.

An index is a Whoosh index in a directory (``.frsearch`` by default) or in
memory. Files are identified by their absolute path and shown by the path the
user gave. Each change is one Whoosh commit, which replaces the table of
contents atomically: a run that is killed leaves the last committed index.
"""

from __future__ import annotations

import json
import os
import shutil
import stat as statmod
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from whoosh import index as whoosh_index
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.index import LockError
from whoosh.writing import CLEAR

from frsearch.analysis import FrenchAnalyzer
from frsearch.documents import (
    MAX_FILE_SIZE,
    SUPPORTED_SUFFIXES,
    Document,
    SkippedFile,
    read_document,
)
from frsearch.errors import (
    DocumentError,
    FrsearchError,
    IndexFormatError,
    IndexLockedError,
    IndexNotFoundError,
)

__all__ = ["DEFAULT_INDEX_DIR", "FORMAT_VERSION", "Index", "SyncReport", "default_index_path"]

#: Bumped whenever what is written to disk changes; an index of another format must be rebuilt.
FORMAT_VERSION = 1
DEFAULT_INDEX_DIR = ".frsearch"
META_FILE = "frsearch.json"
INDEX_NAME = "MAIN"
KIND_FILE = "file"
KIND_DOC = "doc"


def default_index_path() -> str:
    """Where the index lives: $FRSEARCH_INDEX, else ``.frsearch`` in the current directory."""
    return os.environ.get("FRSEARCH_INDEX") or DEFAULT_INDEX_DIR


def make_schema() -> Schema:
    analyzer = FrenchAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        kind=ID(stored=True),
        path=ID(stored=True, sortable=True),
        title=TEXT(analyzer=analyzer, stored=True, phrase=True),
        body=TEXT(analyzer=analyzer, stored=True, phrase=True),
        # "mtime_ns size hash" of files, read in bulk by incremental syncs.
        signature=ID(stored=False, sortable=True),
        mtime=STORED(),
        size=STORED(),
        hash=STORED(),
        fields=STORED(),
    )


@dataclass
class SyncReport:
    """What one ``index`` run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "seconds": round(self.seconds, 3),
        }


def _signature(st: os.stat_result) -> str:
    return f"{st.st_mtime_ns} {st.st_size}"


class Index:
    """A French full-text index, on disk or in memory.

    >>> with Index() as idx:                       # in memory
    ...     idx.add("a", "Titre", "Le corps du document")
    ...     hits = idx.search("document")

    ``Index(path)`` opens the index at ``path``, creating it when ``create`` is
    true (the default); ``Index()`` makes an in-memory index.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        self.path = os.fspath(path) if path is not None else None
        self._lock = threading.RLock()
        self._searcher: Any = None
        self._engine: Any = None
        if self.path is None:
            self._storage = RamStorage()
            self._ix = self._storage.create_index(make_schema(), indexname=INDEX_NAME)
            return
        if self._exists():
            self._ix = self._open()
        elif create:
            self._ix = self._create()
        else:
            raise IndexNotFoundError(f"no index at {self.path}")

    # -- lifecycle ---------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "Index":
        """Open an existing index; IndexNotFoundError when there is none."""
        return cls(path, create=False)

    def _exists(self) -> bool:
        assert self.path is not None
        if not os.path.isdir(self.path):
            return False
        return os.path.exists(os.path.join(self.path, META_FILE)) or any(
            name.startswith(f"_{INDEX_NAME}_") for name in os.listdir(self.path)
        )

    def _read_meta(self) -> dict[str, Any]:
        assert self.path is not None
        try:
            with open(os.path.join(self.path, META_FILE), encoding="utf-8") as handle:
                meta = json.load(handle)
            if not isinstance(meta, dict):
                raise ValueError("not an object")
            return meta
        except FileNotFoundError:
            raise IndexFormatError(f"{self.path} is not a frsearch index (no {META_FILE})") from None
        except (OSError, ValueError) as exc:
            raise IndexFormatError(f"cannot read {META_FILE} in {self.path}: {exc}") from None

    def _open(self) -> Any:
        assert self.path is not None
        meta = self._read_meta()
        if meta.get("format") != FORMAT_VERSION:
            raise IndexFormatError(
                f"the index in {self.path} has format {meta.get('format')!r}, "
                f"this frsearch reads format {FORMAT_VERSION}"
            )
        try:
            storage = FileStorage(self.path)
            ix = storage.open_index(indexname=INDEX_NAME)
            ix.doc_count_all()
            return ix
        except whoosh_index.EmptyIndexError:
            raise IndexFormatError(f"the index in {self.path} has no table of contents") from None
        except FrsearchError:
            raise
        except Exception as exc:  # whoosh raises many kinds on damaged files
            raise IndexFormatError(f"the index in {self.path} is damaged ({_describe(exc)})") from None

    def _create(self) -> Any:
        assert self.path is not None
        try:
            os.makedirs(self.path, exist_ok=True)
            storage = FileStorage(self.path)
            ix = storage.create_index(make_schema(), indexname=INDEX_NAME)
            self._write_meta()
            return ix
        except OSError as exc:
            raise FrsearchError(
                f"cannot create an index in {self.path}: {exc.strerror or exc}",
                hint="Choose another place with --index DIR.",
            ) from None

    def _write_meta(self) -> None:
        assert self.path is not None
        from frsearch import __version__

        meta = {"format": FORMAT_VERSION, "frsearch": __version__, "created": time.time()}
        tmp = os.path.join(self.path, META_FILE + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(meta, handle)
        os.replace(tmp, os.path.join(self.path, META_FILE))

    def _wipe(self) -> None:
        """Remove every file of this index directory (for a rebuild of an unreadable index)."""
        assert self.path is not None
        for name in os.listdir(self.path):
            full = os.path.join(self.path, name)
            if name == META_FILE or name.startswith((f"_{INDEX_NAME}_", f"{INDEX_NAME}_")) or (
                name.endswith((".seg", ".trm", ".pst", ".vps", ".fln", ".sto", ".col", ".toc", ".tmp"))
            ):
                if os.path.isdir(full):
                    shutil.rmtree(full)
                else:
                    os.remove(full)

    def close(self) -> None:
        """Release open files. The index can be used again afterwards (files reopen)."""
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
                self._engine = None

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------

    def _current_searcher(self) -> Any:
        """The Whoosh searcher on the latest commit, reopened when the index changed."""
        with self._lock:
            if self._searcher is None:
                self._searcher = self._ix.searcher()
                self._engine = None
            elif not self._searcher.up_to_date():
                try:
                    fresh = self._searcher.refresh()
                except Exception as exc:
                    raise IndexFormatError(f"the index changed and cannot be reread ({_describe(exc)})") from None
                if fresh is not self._searcher:
                    self._searcher = fresh
                    self._engine = None
            return self._searcher

    def engine(self) -> Any:
        """The search engine bound to the latest committed state of the index."""
        from frsearch.search import Engine

        with self._lock:
            searcher = self._current_searcher()
            if self._engine is None:
                self._engine = Engine(searcher)
            return self._engine

    def __len__(self) -> int:
        return self.doc_count()

    def doc_count(self) -> int:
        """Number of documents in the index."""
        return self._ix.doc_count()

    def search(self, query: str, limit: int = 10, **options: Any) -> Any:
        """Search with frsearch's query syntax; returns a SearchResults of Hit objects.

        See :func:`frsearch.search.Engine.search` for the options.
        """
        return self.engine().search(query, limit=limit, **options)

    def stats(self) -> dict[str, Any]:
        """Documents, distinct terms, size on disk, last update, path and versions."""
        from frsearch import __version__

        reader = self._current_searcher().reader()
        terms: set[str] = set()
        for name in ("title", "body"):
            terms.update(reader.lexicon(name))
        size = 0
        updated = None
        if self.path is not None:
            for entry in os.scandir(self.path):
                if entry.is_file():
                    size += entry.stat().st_size
                    if entry.name.startswith(f"_{INDEX_NAME}_") and entry.name.endswith(".toc"):
                        mtime = entry.stat().st_mtime
                        updated = mtime if updated is None else max(updated, mtime)
        return {
            "index": os.path.abspath(self.path) if self.path else ":memory:",
            "documents": reader.doc_count(),
            "distinct_terms": len(terms),
            "size_bytes": size,
            "last_update": (
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(updated)) if updated else None
            ),
            "frsearch_version": __version__,
            "format_version": FORMAT_VERSION,
        }

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The stored fields of one document, by id (a file's id is its absolute path)."""
        searcher = self._current_searcher()
        docnum = searcher.document_number(id=doc_id)
        return None if docnum is None else dict(searcher.stored_fields(docnum))

    def ids(self) -> Iterator[str]:
        """The ids of all documents."""
        searcher = self._current_searcher()
        reader = searcher.reader()
        for docnum, stored in reader.iter_docs():
            yield stored["id"]

    # -- writing -----------------------------------------------------------

    def _writer(self, wait: float = 0.0) -> Any:
        try:
            return self._ix.writer(timeout=wait, delay=0.1)
        except LockError:
            where = self.path or "this in-memory index"
            raise IndexLockedError(
                f"another process is writing to the index in {where}"
                + (f" (waited {wait:g} s)" if wait else "")
            ) from None

    def add(self, doc_id: str, title: str, body: str, **fields: Any) -> None:
        """Add one document, or replace the document with the same id."""
        self.add_documents([Document(id=doc_id, title=title, body=body, fields=fields)])

    def add_documents(self, documents: Iterable[Document | dict[str, Any]], *, wait: float = 0.0) -> int:
        """Add or replace many documents in one commit; returns how many were written.

        Each document is a :class:`Document` or a dict with ``id``, ``title``
        and ``body``; any other keys of a dict are kept and returned with hits.
        """
        writer = self._writer(wait)
        count = 0
        try:
            for item in documents:
                doc = _as_document(item)
                writer.update_document(**_fields_of(doc, KIND_DOC))
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count

    def delete(self, doc_id: str, *, wait: float = 0.0) -> bool:
        """Delete a document by id; returns whether it was there."""
        writer = self._writer(wait)
        try:
            deleted = writer.delete_by_term("id", doc_id)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return bool(deleted)

    def index_paths(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        rebuild: bool = False,
        wait: float = 0.0,
        max_size: int = MAX_FILE_SIZE,
        progress: Callable[[int, int], None] | None = None,
    ) -> SyncReport:
        """Bring the index up to date with files and folders (recursive).

        Unchanged files (same modification time and size) are not read again;
        changed files are replaced; indexed files that no longer exist are
        removed. ``rebuild`` discards the whole index first, in the same commit.
        ``progress(done, total)`` is called as files are processed.
        """
        started = time.monotonic()
        report = SyncReport()
        candidates = list(self._walk(paths, report))
        writer = self._writer(wait)
        try:
            known = {} if rebuild else self._known_files(writer)
            seen: set[str] = set()
            total = len(candidates)
            for done, (shown, key) in enumerate(candidates, 1):
                if key in seen:
                    continue
                seen.add(key)
                self._sync_one(writer, shown, key, known.get(key), report, max_size)
                if progress:
                    progress(done, total)
            for key, (shown, _sig) in known.items():
                if key not in seen and not os.path.lexists(key):
                    writer.delete_by_term("id", key)
                    report.removed.append(shown)
        except BaseException:
            writer.cancel()
            raise
        if rebuild:
            writer.commit(mergetype=CLEAR)
        else:
            writer.commit()
        report.seconds = time.monotonic() - started
        return report

    def _sync_one(
        self,
        writer: Any,
        shown: str,
        key: str,
        known: tuple[str, str] | None,
        report: SyncReport,
        max_size: int,
    ) -> None:
        try:
            st = os.stat(key)
        except OSError as exc:
            reason = "broken symbolic link" if os.path.islink(key) else (
                "no longer exists" if isinstance(exc, FileNotFoundError) else f"cannot be read ({exc.strerror})"
            )
            self._skip(writer, shown, key, known, reason, report)
            return
        if known is not None and known[1].startswith(_signature(st) + " "):
            report.unchanged += 1
            return
        try:
            doc = read_document(key, max_size=max_size)
        except SkippedFile as exc:
            self._skip(writer, shown, key, known, exc.reason, report)
            return
        doc.path = shown
        doc.id = key
        if known is not None and known[1].endswith(" " + (doc.hash or "")):
            # Touched but identical: store the new signature, count it as unchanged.
            writer.update_document(**_fields_of(doc, KIND_FILE, st))
            report.unchanged += 1
            return
        writer.update_document(**_fields_of(doc, KIND_FILE, st))
        (report.updated if known is not None else report.added).append(shown)

    @staticmethod
    def _skip(
        writer: Any, shown: str, key: str, known: tuple[str, str] | None, reason: str, report: SyncReport
    ) -> None:
        report.skipped.append(SkippedFile(shown, reason))
        if known is not None:
            # What is on disk can no longer be indexed: do not keep serving the old text.
            writer.delete_by_term("id", key)
            report.removed.append(shown)

    def _known_files(self, writer: Any) -> dict[str, tuple[str, str]]:
        """Indexed files: absolute path -> (path as shown, "mtime_ns size hash").

        Read from columns, so no stored body is loaded.
        """
        reader = writer.reader()
        try:
            known: dict[str, tuple[str, str]] = {}
            if reader.doc_count() == 0:
                return known
            # Column by column in each segment: Whoosh's multi-segment column reader
            # fails when a segment lacks the column (one with library documents only).
            for leaf, _base in reader.leaf_readers():
                if not leaf.has_column("signature"):
                    continue
                ids = leaf.column_reader("id")
                paths = leaf.column_reader("path")
                signatures = leaf.column_reader("signature")
                for docnum in leaf.all_doc_ids():
                    signature = signatures[docnum]
                    if signature:
                        key = ids[docnum]
                        known[key] = (paths[docnum] or key, signature)
            return known
        finally:
            reader.close()

    def _walk(self, paths: Sequence[str | os.PathLike[str]], report: SyncReport) -> Iterator[tuple[str, str]]:
        """Yield (path as shown, absolute path) of every supported file under ``paths``."""
        index_dir = os.path.abspath(self.path) if self.path else None
        for given in paths:
            given = os.fspath(given)
            try:
                st = os.stat(given)
            except OSError as exc:
                reason = "broken symbolic link" if os.path.islink(given) else (
                    "does not exist" if isinstance(exc, FileNotFoundError) else f"cannot be read ({exc.strerror})"
                )
                report.skipped.append(SkippedFile(given, reason))
                continue
            if statmod.S_ISDIR(st.st_mode):
                yield from self._walk_dir(given, index_dir, report)
            elif os.path.splitext(given)[1].lower() in SUPPORTED_SUFFIXES:
                yield given, os.path.abspath(given)
            else:
                report.skipped.append(SkippedFile(given, "unsupported file type"))

    @staticmethod
    def _walk_dir(top: str, index_dir: str | None, report: SyncReport) -> Iterator[tuple[str, str]]:
        def on_error(exc: OSError) -> None:
            report.skipped.append(
                SkippedFile(exc.filename or top, f"folder cannot be read ({exc.strerror})")
            )

        for dirpath, dirnames, filenames in os.walk(top, onerror=on_error):
            dirnames[:] = sorted(
                d
                for d in dirnames
                if not d.startswith(".")
                and os.path.abspath(os.path.join(dirpath, d)) != index_dir
            )
            for name in sorted(filenames):
                if name.startswith(".") or os.path.splitext(name)[1].lower() not in SUPPORTED_SUFFIXES:
                    continue
                shown = os.path.join(dirpath, name)
                yield shown, os.path.abspath(shown)

    def rebuild_unreadable(self) -> None:
        """Start afresh when the index cannot be opened (damaged or of another format)."""
        if self.path is None:
            return
        os.makedirs(self.path, exist_ok=True)
        self._wipe()
        self._ix = self._create()

    @classmethod
    def for_rebuild(cls, path: str | os.PathLike[str]) -> "Index":
        """Open the index at ``path`` for a rebuild, wiping it first if it cannot be read."""
        try:
            return cls(path)
        except IndexFormatError:
            index = cls.__new__(cls)
            index.path = os.fspath(path)
            index._lock = threading.RLock()
            index._searcher = None
            index._engine = None
            index.rebuild_unreadable()
            return index


def _as_document(item: Document | dict[str, Any]) -> Document:
    if isinstance(item, Document):
        return item
    if isinstance(item, dict):
        data = dict(item)
        try:
            doc_id = data.pop("id")
        except KeyError:
            raise DocumentError("a document needs an 'id'") from None
        return Document(
            id=str(doc_id),
            title=str(data.pop("title", "") or ""),
            body=str(data.pop("body", "") or ""),
            fields=data,
        )
    raise DocumentError(f"cannot index a {type(item).__name__}: give a Document or a dict")


def _fields_of(doc: Document, kind: str, st: os.stat_result | None = None) -> dict[str, Any]:
    from frsearch.documents import clean_text

    if not doc.id:
        raise DocumentError("a document needs a non-empty id")
    fields: dict[str, Any] = {
        "id": doc.id,
        "kind": kind,
        "title": clean_text(doc.title or ""),
        "body": clean_text(doc.body or ""),
    }
    if doc.fields:
        fields["fields"] = dict(doc.fields)
    if kind == KIND_FILE:
        assert st is not None
        fields.update(
            path=doc.path,
            mtime=st.st_mtime,
            size=st.st_size,
            hash=doc.hash,
        )
        fields["signature"] = f"{_signature(st)} {doc.hash}"
    return fields


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
