"""The Index facade: create or open an index, add documents, sync folders, search.

An index is a Whoosh index in a directory (``.frsearch`` by default) or in
memory. Files are identified by their absolute path and shown by the path the
user gave. Each change is one Whoosh commit, which replaces the table of
contents atomically: a run that is killed leaves the last committed index.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from whoosh import index as whoosh_index
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.util.filelock import try_for

from frsearch.analysis import FrenchAnalyzer, FrenchPositions
from frsearch.codec import ArrayCodec, LeanMpWriter, LeanSegmentWriter
from frsearch.documents import MAX_FILE_SIZE, Document
from frsearch.errors import (
    DocumentError,
    FrsearchError,
    IndexFormatError,
    IndexLockedError,
    IndexNotFoundError,
)
from frsearch import store, sync
from frsearch.storage import PrivateTempRamStorage
from frsearch.store import FORMAT_VERSION, INDEX_NAME, META_FILE, decode_key as _decode_key, encode_key as _encode_key
from frsearch.sync import SyncReport, _signature, check_paths

if TYPE_CHECKING:
    from frsearch.ranking import SearchOptions

__all__ = ["DEFAULT_INDEX_DIR", "FORMAT_VERSION", "Index", "SyncReport", "check_paths", "default_index_path"]

#: A batch of at least this many documents, on disk, is indexed by PARALLEL_PROCS processes.
PARALLEL_MIN_DOCS = 5000
PARALLEL_PROCS = 2
PARALLEL_BATCH = 256
#: Memory (Whoosh's estimate, in MB) of postings a writer process sorts in memory before
#: spilling a sorted run to disk; runs are merged at commit. Whoosh's default is 128; at 64
#: the 121 MB benchmark build (two writer processes) peaks at 780 MiB instead of 941 MiB,
#: for 2-3 % more time (sort runs are cheap to spill since LeanPostingPool).
WRITER_LIMIT_MB = 64

DEFAULT_INDEX_DIR = ".frsearch"
KIND_FILE = "file"
KIND_DOC = "doc"
#: Opening an index that another process is committing to can meet a table of contents or segment
#: that this commit just replaced: so many tries, this far apart, before it is called damaged.
OPEN_ATTEMPTS = 3
OPEN_RETRY_SECONDS = 0.05
#: How long creating or wiping an index waits for another process that holds its write lock.
CREATE_WAIT = 30.0


def default_index_path() -> str:
    """Where the index lives: $FRSEARCH_INDEX, else ``.frsearch`` in the current directory."""
    return os.environ.get("FRSEARCH_INDEX") or DEFAULT_INDEX_DIR


class TextColumn(COLUMN):
    """A text value kept in a per-document column (read in bulk), optionally stored; not searchable."""

    def __init__(self, stored: bool = False) -> None:
        super().__init__(VarBytesColumn())
        self.stored = stored

    def to_column_value(self, value: Any) -> bytes:
        return (value or "").encode("utf-8", "surrogatepass")

    def from_column_value(self, value: bytes) -> str:
        return value.decode("utf-8", "surrogatepass")


def make_schema() -> Schema:
    analyzer = FrenchAnalyzer()
    schema = Schema(
        id=ID(stored=True, unique=True, sortable=True),
        kind=ID(stored=True),
        path=TextColumn(stored=True),
        title=TEXT(analyzer=analyzer, stored=True, phrase=True),
        body=TEXT(analyzer=analyzer, stored=True, phrase=True),
        # "mtime_ns size hash" of files, read in bulk by incremental syncs.
        signature=TextColumn(stored=False),
        mtime=STORED(),
        size=STORED(),
        hash=STORED(),
        fields=STORED(),
        # Metadata of files (searchable as author:/auteur:, date:) and where each page starts.
        author=TEXT(analyzer=analyzer, phrase=True),
        date=TEXT(analyzer=analyzer, phrase=True),
        pages=STORED(),
    )
    for name in ("title", "body", "author", "date"):
        # Same postings as the analyzer gives, computed without Token objects.
        schema[name].format = FrenchPositions(field_boost=schema[name].format.field_boost)
    return schema


class Index:
    """A French full-text index, on disk or in memory.

    >>> with Index() as idx:                       # in memory
    ...     idx.add("a", "Titre", "Le corps du document")
    ...     hits = idx.search("document")

    ``Index(path)`` opens the index at ``path``, creating it when ``create`` is
    true (the default); ``Index()`` makes an in-memory index. ``options`` (a
    :class:`~frsearch.SearchOptions`) sets the ranking parameters of its searches.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, create: bool = True,
        options: SearchOptions | None = None,
    ) -> None:
        self.path = os.fspath(path) if path is not None else None
        self._lock = threading.RLock()
        self._searcher: Any = None
        self._engine: Any = None
        self._options = options
        if self.path is None:
            self._storage = PrivateTempRamStorage()
            self._ix = self._storage.create_index(make_schema(), indexname=INDEX_NAME)
            return
        if store.exists(self.path):
            self._ix = self._open(create)
        elif create:
            self._ix = self._create()
        else:
            raise IndexNotFoundError(f"no index at {self.path}")

    # -- lifecycle ---------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "Index":
        """Open an existing index; IndexNotFoundError when there is none."""
        return cls(path, create=False)

    def _open(self, create: bool = False) -> Any:
        assert self.path is not None
        meta = store.read_meta(self.path)
        from frsearch._version import __version__

        found = meta.get("format")
        if isinstance(found, int) and not isinstance(found, bool) and found > FORMAT_VERSION:
            raise IndexFormatError(
                f"the index in {self.path} was written by a newer frsearch "
                f"({meta.get('frsearch', '?')}, format {found}); this frsearch {__version__} reads format "
                f"{FORMAT_VERSION}",
                hint="Upgrade frsearch (pip install -U frsearch), or rebuild the index with this one "
                "(`frsearch index --rebuild PATH`).",
            )
        if found != FORMAT_VERSION:
            raise IndexFormatError(
                f"the index in {self.path} has format {found!r}, "
                f"this frsearch reads format {FORMAT_VERSION}"
            )
        # Another process committing meanwhile removes the table of contents or the segments
        # that were the latest a moment ago: try the new latest before calling the index
        # damaged (real damage fails every time).
        for _retry in range(OPEN_ATTEMPTS - 1):
            try:
                return self._open_committed(create)
            except IndexFormatError:
                time.sleep(OPEN_RETRY_SECONDS)
        return self._open_committed(create)

    def _open_committed(self, create: bool = False) -> Any:
        try:
            storage = FileStorage(self.path)
            ix = storage.open_index(indexname=INDEX_NAME)
            self._check_segments(ix)  # before Whoosh opens any segment file
            ix.doc_count_all()
            return ix
        except whoosh_index.EmptyIndexError:
            if store.has_segments(self.path):
                raise IndexFormatError(f"the index in {self.path} has no table of contents") from None
            # frsearch.json is written before the first table of contents: a run was
            # stopped while creating the index, and nothing was ever committed.
            if create:
                return self._create()
            raise IndexNotFoundError(f"no index at {self.path} (its creation was interrupted)") from None
        except FrsearchError:
            raise
        except Exception as exc:  # whoosh raises many kinds on damaged files
            damage = self._damage(exc)
            if damage is None:
                raise
            raise damage from None

    def _commit(self, writer: Any, **options: Any) -> None:
        """Commit, then note the size of each file of the live segments in frsearch.json.

        Segment files never change once written, so a size that differs later,
        or a file that is gone, is damage: store.check_segments reports it when the
        index is opened instead of when a query happens to read that part.
        """
        self._reading(lambda: writer.commit(**options))
        if self.path is not None:
            store.record_segments(self.path, self._ix)

    def _check_segments(self, ix: Any) -> None:
        """IndexFormatError when a file of a live segment is missing or has another size."""
        if self.path is not None:  # in memory: nothing on disk to check
            store.check_segments(self.path, ix, self._damage)

    def _create(self, *, wipe: bool = False) -> Any:
        """Create the index (or wipe an unreadable one and create it) under the write lock.

        Two runs that start on the same new index must not both create it: the
        second one would delete the first one's table of contents.
        """
        assert self.path is not None
        try:
            os.makedirs(self.path, exist_ok=True)
            storage = FileStorage(self.path)
            lock = storage.lock(f"{INDEX_NAME}_WRITELOCK")
            if not try_for(lock.acquire, timeout=CREATE_WAIT, delay=0.1):
                raise IndexLockedError(
                    f"another process is writing to the index in {self.path} (waited {CREATE_WAIT:g} s)"
                )
            try:
                if store.exists(self.path):
                    try:  # created (or repaired) by another run meanwhile
                        return self._open()
                    except (IndexFormatError, IndexNotFoundError):
                        if not wipe and store.has_segments(self.path):
                            raise
                if wipe:
                    store.wipe(self.path)
                # frsearch.json first: a directory with it and no table of contents is
                # an index whose creation was interrupted, which the next run completes.
                store.write_meta(self.path)
                return storage.create_index(make_schema(), indexname=INDEX_NAME)
            finally:
                lock.release()
        except OSError as exc:
            raise FrsearchError(
                f"cannot create an index in {self.path}: {exc.strerror or exc}",
                hint="Choose another place with --index DIR.",
            ) from None

    def close(self) -> None:
        """Release open files. The index can be used again afterwards (files reopen)."""
        with self._lock:
            if self._damaged:
                store.collect_orphans()
            if self.path is None:
                self._storage.remove_temp_folder()  # the documents stay
            self._drop_engine()
            if self._searcher is not None:
                searcher, self._searcher = self._searcher, None
                try:
                    searcher.close()
                except Exception:  # files of a damaged index may be closed already
                    pass

    _damaged = False

    def __del__(self) -> None:
        # Segment files stay open while a searcher uses them: close them with the index.
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- damage ------------------------------------------------------------

    def _damage(self, exc: BaseException) -> IndexFormatError | None:
        """The IndexFormatError an exception from reading the index stands for, or None
        (see store.damage_error)."""
        found = store.damage_error(self.path, exc)
        if found is not None:
            self._damaged = True
        return found

    def _reading(self, action: Callable[[], Any], *, retry: bool = False) -> Any:
        """Run ``action`` (which reads the index); damaged files become IndexFormatError.

        Under the index's lock: a thread that sees a new commit replaces (and closes)
        the searcher, which must not happen while another thread still reads it.
        A commit from another process may remove files a read was about to open (a
        table of contents, or a segment merged away that a searcher had not opened
        yet). So a read that fails as if on damaged files is, with ``retry`` (reads
        only), run once more on a searcher of the latest commit; only a second
        failure counts as damage.
        """
        try:
            with self._lock:
                try:
                    return action()
                except Exception as exc:
                    damaged = isinstance(exc, IndexFormatError) or store.damage_error(self.path, exc)
                    if not retry or not damaged:
                        raise
                    self._reopen()
                    return action()
        except Exception as exc:
            damage = self._damage(exc)
            if damage is None:
                raise
            self.close()  # the next search reopens the index rather than reuse a broken reader
            raise damage from exc

    # -- reading -----------------------------------------------------------

    def _outdated(self) -> bool:
        """Whether a commit was made since the current searcher opened."""
        try:
            return self._searcher is not None and not self._searcher.up_to_date()
        except Exception:
            return True

    def _reopen(self) -> None:
        """Drop the current searcher (and its engine); the next read opens the latest commit."""
        stale, self._searcher = self._searcher, None
        self._drop_engine()
        if stale is not None:
            try:
                stale.close()
            except Exception:
                pass

    def _current_searcher(self) -> Any:
        """The Whoosh searcher on the latest commit, reopened when the index changed."""
        with self._lock:
            if self._outdated():
                # A new searcher, not Searcher.refresh(): refresh() keeps the reader of
                # every segment it already had, with the deletions it had then, so
                # documents deleted by a later commit would still be found.
                self._reopen()
            if self._searcher is None:
                self._check_segments(self._ix)
                self._searcher = self._ix.searcher()
                self._drop_engine()
            return self._searcher

    def _drop_engine(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            self._options = engine.options  # set on it or not, they serve the next engine
            engine.close()

    def engine(self) -> Any:
        """The search engine bound to the latest committed state of the index."""
        from frsearch.search import Engine

        with self._lock:
            searcher = self._current_searcher()
            if self._engine is None:
                self._engine = Engine(searcher, self._options)
            return self._engine

    @property
    def options(self) -> SearchOptions:
        """The ranking parameters of this index's searches; kept across its commits."""
        with self._lock:
            if self._engine is not None:
                return self._engine.options
            if self._options is None:
                from frsearch.ranking import SearchOptions

                self._options = SearchOptions()
            return self._options

    @options.setter
    def options(self, value: SearchOptions) -> None:
        with self._lock:
            self._options = value
            if self._engine is not None:
                self._engine.options = value

    def __len__(self) -> int:
        return self.doc_count()

    def doc_count(self) -> int:
        """Number of documents in the index."""
        return int(self._reading(self._ix.doc_count, retry=True))

    def search(self, query: str, limit: int = 10, **options: Any) -> Any:
        """Search with frsearch's query syntax; returns a SearchResults of Hit objects.

        See :func:`frsearch.search.Engine.search` for the options. A damaged
        index raises IndexFormatError, also when the damage only shows now.
        """
        results = self._reading(lambda: self.engine().search(query, limit=limit, **options), retry=True)
        for hit in results:
            hit.id = _decode_key(hit.id)
            if hit.path is not None:
                hit.path = hit.id  # a file's id is its absolute path: openable from anywhere
        return results

    def stats(self) -> dict[str, Any]:
        """Documents, distinct terms, size on disk, last update, path and versions."""
        return dict(self._reading(self._stats, retry=True))

    def _stats(self) -> dict[str, Any]:
        from frsearch._version import __version__

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

        def read() -> dict[str, Any] | None:
            searcher = self._current_searcher()
            docnum = searcher.document_number(id=_encode_key(doc_id))
            return None if docnum is None else dict(searcher.stored_fields(docnum))

        stored = self._reading(read, retry=True)
        if stored is not None:
            stored["id"] = _decode_key(stored["id"])
            if stored.get("path") is not None:
                stored["path"] = _decode_key(stored["path"])
        return stored

    def ids(self) -> Iterator[str]:
        """The ids of all documents."""
        stored = self._reading(
            lambda: [s["id"] for _n, s in self._current_searcher().reader().iter_docs()], retry=True
        )
        return iter([_decode_key(doc_id) for doc_id in stored])

    def documents(self) -> Iterator[dict[str, Any]]:
        """The stored fields of every document (as :meth:`get` gives them), in index order."""
        stored = self._reading(
            lambda: [dict(s) for _n, s in self._current_searcher().reader().iter_docs()], retry=True
        )
        for fields in stored:
            fields["id"] = _decode_key(fields["id"])
            if fields.get("path") is not None:
                fields["path"] = _decode_key(fields["path"])
            yield fields

    def files(self) -> list[dict[str, Any]]:
        """The indexed files, by path: path, title, size, mtime, pages (PDF) and metadata fields."""
        return sync.files(self)

    def drop(self, paths: Sequence[str | os.PathLike[str]], *, wait: float = 0.0) -> list[str]:
        """Remove files (or every file under folders) from the index, not from the disk.

        Returns the paths removed, as they were indexed. The files come back at the
        next ``index_paths`` of a folder that holds them.
        """
        return sync.drop(self, paths, wait=wait)

    # -- writing -----------------------------------------------------------

    def _writer(self, wait: float = 0.0, procs: int = 1) -> Any:
        """A writer holding the index's lock; ``procs`` > 1 analyzes and writes in that many processes.

        Segments are written as separate files: Whoosh reads a compound file by
        copying each part into memory, which made opening a large index slow.
        """
        options: dict[str, Any] = {
            "timeout": wait, "delay": 0.1, "codec": ArrayCodec(), "compound": False,
            "limitmb": WRITER_LIMIT_MB,
        }
        if procs > 1:
            # Each process writes its own segment; they are not merged at the end
            # (merging would cost what the second process saved).
            options.update(procs=procs, multisegment=True, batchsize=PARALLEL_BATCH)
        try:
            if procs > 1:
                writer = LeanMpWriter(self._ix, **options)
            else:
                writer = LeanSegmentWriter(self._ix, **options)
        except LockError:
            where = self.path or "this in-memory index"
            raise IndexLockedError(
                f"another process is writing to the index in {where}"
                + (f" (waited {wait:g} s)" if wait else "")
            ) from None
        except Exception as exc:
            damage = self._damage(exc)
            if damage is None:
                raise
            raise damage from exc
        if _holds_lock(writer):
            self._remove_debris(own=writer.newsegment.segment_id())
        return writer

    def _remove_debris(self, own: str | None = None, *, failed: bool = False) -> None:
        """Remove what failed or killed runs left, so that it can neither block nor fill the disk.

        Called with the write lock held, so none of it belongs to a live writer
        but the one holding the lock, whose new segment is ``own``: a temporary
        table of contents (``_MAIN_N.toc.<time>``), ``frsearch.json.tmp``, the
        files of segments that no table of contents lists (half-written by a
        run that failed, for instance on a full disk), and after a ``failed``
        write the temporary files in the writers' folder (a live writer has its
        own there; Whoosh empties it when a writer finishes).
        """
        if self.path is None:
            return
        try:
            live: set[str] | None = {segment.segment_id() for segment in self._ix._segments()}
        except Exception:
            live = None  # no readable table of contents: its damage is reported elsewhere
        debris = []
        for name in os.listdir(self.path):
            if store.TOC_TEMP_RE.fullmatch(name) or name == META_FILE + ".tmp":
                debris.append(os.path.join(self.path, name))
            elif live is not None and store.SEGMENT_FILE_RE.match(name):
                segment_id = name.split(".", 1)[0]
                if segment_id not in live and segment_id != own:
                    debris.append(os.path.join(self.path, name))
        temp = os.path.join(self.path, INDEX_NAME + ".tmp")
        if failed and os.path.isdir(temp):
            debris.extend(os.path.join(temp, name) for name in os.listdir(temp))
        for path in debris:
            try:
                os.remove(path)
            except OSError:
                pass

    def _abandon(self, writer: Any) -> None:
        """After a failed write (a full disk, an error, Ctrl-C): cancel the writer and remove what
        it wrote; the index stays at its last commit.

        The writer may still write files while it cancels, so they are removed
        after, under the lock taken again; if another run took it meanwhile, its
        own start removes them (see _writer).
        """
        _abort(writer)
        failure = sys.exc_info()[1]
        if failure is not None:  # files Whoosh's failed frames still hold (a full disk)
            store.close_files_left_open(failure)
        if self.path is None:
            return
        lock = self._ix.lock("WRITELOCK")
        try:
            if not lock.acquire(blocking=False):
                return
        except Exception:
            return
        try:
            self._remove_debris(failed=True)
        finally:
            lock.release()

    def add(self, id: str, title: str = "", body: str = "", **fields: Any) -> None:  # noqa: A002
        """Add one document, or replace the document with the same id."""
        self.add_documents([Document(id=id, title=title, body=body, fields=fields)])

    def add_documents(self, documents: Iterable[Document | dict[str, Any]], *, wait: float = 0.0) -> int:
        """Add or replace many documents in one commit; returns how many were written.

        Each document is a :class:`Document` or a dict with ``id``, ``title``
        and ``body``; any other keys of a dict are kept and returned with hits.
        """
        # The same id twice in one batch: the last one wins, as with two add() calls (a writer's
        # update_document only replaces documents of earlier commits).
        latest: dict[str, Document] = {}
        for item in documents:
            doc = _as_document(item)
            latest.pop(doc.id, None)
            latest[doc.id] = doc
        procs = 1
        if self.path is not None and len(latest) >= PARALLEL_MIN_DOCS:
            procs = min(PARALLEL_PROCS, os.cpu_count() or 1)
        writer = self._writer(wait, procs=procs)
        try:
            for doc in latest.values():
                fields = _fields_of(doc, KIND_DOC)
                self._reading(lambda: writer.update_document(**fields))
            self._commit(writer)
        except BaseException:
            self._abandon(writer)
            raise
        return len(latest)

    def delete(self, doc_id: str, *, wait: float = 0.0) -> bool:
        """Delete a document by id; returns whether it was there."""
        writer = self._writer(wait)
        try:
            deleted = self._reading(lambda: writer.delete_by_term("id", _encode_key(doc_id)))
            self._commit(writer)
        except BaseException:
            self._abandon(writer)
            raise
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
        return sync.index_paths(self, paths, rebuild=rebuild, wait=wait, max_size=max_size, progress=progress)

    def rebuild_unreadable(self) -> None:
        """Start afresh when the index cannot be opened (damaged or of another format)."""
        if self.path is None:
            return
        self._ix = self._create(wipe=True)

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
            index._options = None
            index.rebuild_unreadable()
            return index


def _holds_lock(writer: Any) -> bool:
    """Whether a writer still holds the index's write lock (it is released once it commits)."""
    lock = getattr(writer, "writelock", None)
    return lock is not None and getattr(lock, "fd", None) is not None


def _abort(writer: Any) -> None:
    """Cancel a writer after an error, releasing the write lock whatever state it is in."""
    try:
        writer.cancel()
    except Exception as exc:
        store.close_files_left_open(exc)  # cancelling a writer that failed writing can fail too
        if _holds_lock(writer):
            try:
                writer.writelock.release()
            except Exception:
                pass


def _as_document(item: Document | dict[str, Any]) -> Document:
    if isinstance(item, Document):
        return item
    if isinstance(item, dict):
        data = dict(item)
        try:
            doc_id = data.pop("id")
        except KeyError:
            raise DocumentError("a document needs an 'id'") from None
        return Document(id=doc_id, title=data.pop("title", ""), body=data.pop("body", ""), fields=data)
    raise DocumentError(f"cannot index a {type(item).__name__}: give a Document or a dict")


def _text_or_empty(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DocumentError(f"a document's {what} must be a string, not {type(value).__name__} ({value!r:.40})")
    return value


def _fields_of(doc: Document, kind: str, st: os.stat_result | None = None) -> dict[str, Any]:
    from frsearch.documents import clean_text

    if not isinstance(doc.id, str):
        raise DocumentError(
            f"a document id must be a string, not {type(doc.id).__name__} ({doc.id!r:.40}): "
            f"give str({doc.id!r:.40}) if that is what you mean"
        )
    if not doc.id:
        raise DocumentError("a document needs a non-empty id")
    fields: dict[str, Any] = {
        "id": _encode_key(doc.id),
        "kind": kind,
        "title": clean_text(_text_or_empty(doc.title, "title")),
        "body": clean_text(_text_or_empty(doc.body, "body")),
    }
    if doc.fields:
        fields["fields"] = dict(doc.fields)
        for name in ("author", "date"):
            if isinstance(doc.fields.get(name), str):
                fields[name] = clean_text(doc.fields[name])
    if doc.pages:
        fields["pages"] = list(doc.pages)
    if kind == KIND_FILE:
        assert st is not None
        fields.update(
            path=_encode_key(doc.path) if doc.path is not None else None,
            mtime=st.st_mtime,
            size=st.st_size,
            hash=doc.hash,
        )
        fields["signature"] = f"{_signature(st)} {doc.hash}"
    return fields
