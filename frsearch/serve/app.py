"""The routes of ``frsearch serve``: a request target in, a :class:`Response` out.

No socket here, so every rule can be tested by calling :meth:`App.handle`. Every
request is treated as hostile:

- only fixed routes exist; a document is named by its id and looked up in the
  index, never joined to a path; static files come from a fixed list;
- the original file of a hit is served only when it is still the very file that
  was indexed (same size and modification time, not a symbolic link), inside a
  sandbox that runs none of its scripts;
- queries are bounded in length, page size and depth, and in time
  (:data:`SEARCH_TIMEOUT`);
- document text reaches HTML only escaped (:mod:`frsearch.serve.pages`), JSON only
  encoded by :func:`json.dumps`.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import stat as statmod
import threading
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from frsearch.analysis import analyze, matched_spans
from frsearch.errors import FrsearchError, IndexFormatError, QueryError
from frsearch.index import Index
from frsearch.paths import openable_path
from frsearch.serve import pages

__all__ = ["App", "Response", "ServeError"]

#: A search that takes longer gets a 503 answer (it finishes in the background).
SEARCH_TIMEOUT = 10.0
#: Longest query accepted (characters); the CLI has no limit, a server needs one.
MAX_QUERY_CHARS = 1000
#: Most hits one API call returns, and deepest offset (a page past it is refused).
MAX_LIMIT = 100
MAX_OFFSET = 10_000
#: Hits on one page of the web page.
PAGE_SIZE = 10
#: Longest request target (path and query string) accepted, in characters.
MAX_TARGET = 8192
#: Query-string fields accepted in one request.
MAX_FIELDS = 40
#: Highlighted terms given to the document view, and highlights drawn in one document.
MAX_TERMS = 64
MAX_MARKS = 5000

SORTS = {"score": "score", "date": "mtime", "mtime": "mtime", "path": "path"}
_JOINERS = frozenset("-‐‑'’")

#: The page's own files: name -> content type. Nothing else is ever read from disk by name.
STATIC = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}

#: Content types of original files shown in the browser; any other type is downloaded.
_INLINE_TYPES = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/plain",
    ".markdown": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
}


class ServeError(FrsearchError):
    """The server cannot start (port in use, address unknown...)."""


class HTTPError(Exception):
    """An answer other than 200, with a message for the user (in French)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    #: Streams the body (an open file) instead of ``body``; closed by the server.
    stream: Any = None


_JSON_ESCAPED_RE = re.compile("[\x7f-\x9f\ud800-\udfff]")


def _json_response(data: Any, status: int = 200) -> Response:
    """UTF-8 JSON, readable in a terminal; DEL, C1 controls and lone surrogates (undecodable
    bytes of file names) written as \\u escapes, as ``frsearch query --json`` writes them."""
    text = json.dumps(data, ensure_ascii=False)
    text = _JSON_ESCAPED_RE.sub(lambda m: "\\u%04x" % ord(m.group()), text)
    return Response(status, text.encode("utf-8"), "application/json")


def _html_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode("utf-8", "replace"), "text/html; charset=utf-8")


class Params:
    """The fields of a query string, each read once and checked."""

    def __init__(self, query: str) -> None:
        try:
            pairs = parse_qsl(query, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
        except UnicodeDecodeError:
            raise HTTPError(400, "Requête mal formée : texte qui n’est pas de l’UTF-8.") from None
        except ValueError:
            raise HTTPError(400, f"Requête mal formée : plus de {MAX_FIELDS} paramètres.") from None
        self.values: dict[str, list[str]] = {}
        for key, value in pairs:
            if "\x00" in key or "\x00" in value:
                raise HTTPError(400, "Requête mal formée : caractère nul.")
            self.values.setdefault(key, []).append(value)

    def get(self, name: str, default: str = "") -> str:
        found = self.values.get(name)
        return found[-1] if found else default

    def all(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get(name)
        if raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise HTTPError(400, f"Paramètre {name} : un nombre entier est attendu.") from None
        if not low <= value <= high:
            raise HTTPError(400, f"Paramètre {name} : entre {low} et {high}.")
        return value


@dataclass
class SearchForm:
    """What the search page was asked: the query and its filters."""

    q: str = ""
    page: int = 1
    under: str = ""
    type: str = ""
    sort: str = "score"
    scores: bool = False

    @classmethod
    def read(cls, params: Params) -> "SearchForm":
        form = cls(
            q=_query_text(params.get("q")),
            page=params.integer("page", 1, 1, MAX_OFFSET // PAGE_SIZE + 1),
            under=params.get("under"),
            type=params.get("type").lstrip("."),
            sort=params.get("sort", "score") or "score",
            scores=params.get("scores") in ("1", "on", "true"),
        )
        if form.sort not in SORTS:
            raise HTTPError(400, "Tri inconnu : score, date ou path.")
        if not form.type.isalnum() and form.type:
            raise HTTPError(400, "Type de fichier inconnu.")
        return form

    def glob(self) -> str | None:
        return f"*.{self.type}" if self.type else None


def _query_text(q: str) -> str:
    if len(q) > MAX_QUERY_CHARS:
        raise HTTPError(413, f"Requête trop longue : {MAX_QUERY_CHARS} caractères au plus.")
    return q.strip()


class App:
    """The routes of the page and of the API, over one open :class:`~frsearch.Index`.

    The index is shared by every request: ``Index.search`` picks up a commit made by
    another process (``frsearch index``) when the next search starts.
    """

    def __init__(self, index: Index, *, search_timeout: float = SEARCH_TIMEOUT, cwd: str | None = None) -> None:
        self.index = index
        self.search_timeout = search_timeout
        self.cwd = cwd or os.getcwd()
        # Searches run one at a time in the engine; a few workers let a slow one be
        # abandoned (503) while the next requests queue behind it.
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="frsearch-search")
        self._facets_lock = threading.Lock()
        self._reading_lock = threading.Lock()
        self._facets_key: Any = None
        self._facets: tuple[list[tuple[str, str, int]], list[tuple[str, int]]] = ([], [])
        self._static: dict[str, bytes] = {}
        self.routes: dict[str, Callable[[Params], Response]] = {
            "/": self.page_search,
            "/doc": self.page_document,
            "/file": self.original_file,
            "/api/search": self.api_search,
            "/api/doc": self.api_document,
            "/api/stats": self.api_stats,
        }

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- dispatch ------------------------------------------------------------

    def handle(self, method: str, target: str) -> Response:
        """Answer one request; never raises."""
        api = target.startswith("/api/")
        try:
            if method not in ("GET", "HEAD"):
                raise HTTPError(405, "Méthode non permise : GET seulement.")
            if len(target) > MAX_TARGET:
                raise HTTPError(414, "Adresse trop longue.")
            if not target.startswith("/") or "\x00" in target:
                raise HTTPError(400, "Adresse mal formée.")
            parts = urlsplit(target)
            if parts.path.startswith("/static/"):
                return self.static(parts.path[len("/static/"):])
            route = self.routes.get(parts.path)
            if route is None:
                raise HTTPError(404, "Page introuvable.")
            return route(Params(parts.query))
        except HTTPError as exc:
            return self.error(exc.status, exc.message, api)
        except QueryError as exc:
            return self.error(400, exc.message, api)
        except IndexFormatError as exc:
            return self.error(500, f"{exc.message}. {exc.hint or ''}".strip(), api)
        except FrsearchError as exc:
            return self.error(500, exc.message, api)
        except Exception as exc:  # a bug: one line for the user, the server goes on
            return self.error(500, f"Erreur interne ({type(exc).__name__}).", api)

    def error(self, status: int, message: str, api: bool) -> Response:
        if api:
            return _json_response({"error": message, "status": status}, status)
        return _html_response(pages.error_page(status, message), status)

    # -- searching -------------------------------------------------------------

    def reading(self, action: Callable[..., Any], *args: Any, **options: Any) -> Any:
        """Run ``action`` (which reads the index) in the pool, one at a time, bounded in time.

        One at a time: the index's engine is replaced when another process commits, and a
        search must not start on an engine that another request is replacing.
        """

        def run() -> Any:
            with self._reading_lock:
                return action(*args, **options)

        future = self._pool.submit(run)
        try:
            return future.result(timeout=self.search_timeout)
        except concurrent.futures.TimeoutError:
            raise HTTPError(503, f"Recherche trop longue (plus de {self.search_timeout:g} s) : "
                                 "précisez la requête.") from None

    def search(self, q: str, **options: Any) -> Any:
        """``Index.search`` bounded in time; paths shown as the CLI shows them."""
        results = self.reading(self.index.search, q, **options)
        for hit in results:
            hit.path = openable_path(hit.path, self.cwd)
        return results

    def page_search(self, params: Params) -> Response:
        form = SearchForm.read(params)
        folders, types = self.facets()
        results = None
        message = None
        if form.q:
            try:
                results = self.search(
                    form.q, limit=PAGE_SIZE, offset=(form.page - 1) * PAGE_SIZE,
                    under=form.under or None, glob=form.glob(), sort=SORTS[form.sort],
                ).as_dict()
            except QueryError as exc:
                message = exc.message
        return _html_response(pages.search_page(form, results, message, folders, types, PAGE_SIZE))

    def api_search(self, params: Params) -> Response:
        q = _query_text(params.get("q"))
        if not q:
            raise HTTPError(400, "Paramètre q manquant : la requête à chercher.")
        sort = params.get("sort", "score") or "score"
        if sort not in SORTS:
            raise HTTPError(400, "Tri inconnu : score, mtime (ou date) ou path.")
        results = self.search(
            q,
            limit=params.integer("limit", PAGE_SIZE, 0, MAX_LIMIT),
            offset=params.integer("offset", 0, 0, MAX_OFFSET),
            under=params.get("under") or None,
            glob=params.get("glob") or None,
            sort=SORTS[sort],
        )
        return _json_response(results.as_dict(explain=params.get("explain") in ("1", "true")))

    def api_stats(self, params: Params) -> Response:
        return _json_response(self.reading(self.index.stats))

    def facets(self) -> tuple[list[tuple[str, str, int]], list[tuple[str, int]]]:
        """Folders (absolute, shown, count) and file types (suffix, count) of indexed files.

        Read from the index's columns once per commit.
        """
        return self.reading(self._read_facets)

    def _read_facets(self) -> tuple[list[tuple[str, str, int]], list[tuple[str, int]]]:
        engine = self.index.engine()
        with self._facets_lock:
            if engine is self._facets_key:
                return self._facets
            reader = engine.searcher.reader()
            deleted = reader.is_deleted if reader.has_deletions() else None
            direct: dict[str, int] = {}
            types: dict[str, int] = {}
            for docnum, (doc_id, path) in enumerate(zip(engine.segments.column("id"), engine.segments.column("path"))):
                if not path or doc_id.startswith("\x00") or (deleted is not None and deleted(docnum)):
                    continue  # a library document, a name stored encoded, or deleted
                folder = os.path.dirname(doc_id)
                direct[folder] = direct.get(folder, 0) + 1
                suffix = os.path.splitext(doc_id)[1].lower().lstrip(".")
                if suffix.isalnum():
                    types[suffix] = types.get(suffix, 0) + 1
            # Each folder counts the files under it, at any depth (as the filter keeps them),
            # and the folders between the indexed ones and their common parent are listed too.
            folders = dict(direct)
            common = os.path.commonpath(list(direct)) if direct else ""
            for folder, count in direct.items():
                while folder != common and os.path.dirname(folder) != folder:
                    folder = os.path.dirname(folder)
                    folders[folder] = folders.get(folder, 0) + count
            shown = [(f, openable_path(os.path.join(f, ""), self.cwd) or f, n) for f, n in sorted(folders.items())]
            self._facets = (shown[:200], sorted(types.items()))
            self._facets_key = engine
            return self._facets

    # -- documents ---------------------------------------------------------------

    def document(self, params: Params) -> tuple[dict[str, Any], list[tuple[int, int]], list[tuple[int, int]]]:
        """The stored document named by ``id``, and the spans of the query's words in its body and title."""
        doc_id = params.get("id")
        if not doc_id:
            raise HTTPError(400, "Paramètre id manquant.")
        stored = self.reading(self.index.get, doc_id)
        if stored is None:
            raise HTTPError(404, "Document introuvable dans l’index.")
        terms = self.terms(params)
        body = stored.get("body") or ""
        title = stored.get("title") or ""
        return stored, _joined_spans(body, terms)[:MAX_MARKS], _joined_spans(title, terms)

    def terms(self, params: Params) -> set[str]:
        """The terms to highlight: the hit's matched terms (``t``), else the query's words."""
        given = [t for t in params.all("t") if 0 < len(t) <= 100][:MAX_TERMS]
        if given:
            return set(given)
        q = _query_text(params.get("q"))
        return {word.term for word in analyze(q) if word.term}

    def page_document(self, params: Params) -> Response:
        stored, spans, title_spans = self.document(params)
        q = _query_text(params.get("q"))
        return _html_response(pages.document_page(stored, spans, title_spans, q, self._shown(stored)))

    def api_document(self, params: Params) -> Response:
        stored, spans, title_spans = self.document(params)
        data = {
            "id": stored["id"],
            "title": stored.get("title") or "",
            "title_spans": [list(s) for s in title_spans],
            "path": self._shown(stored),
            "kind": stored.get("kind"),
            "size": stored.get("size"),
            "mtime": stored.get("mtime"),
            "fields": stored.get("fields") or {},
            "body": stored.get("body") or "",
            "spans": [list(s) for s in spans],
        }
        return _json_response(data)

    def _shown(self, stored: dict[str, Any]) -> str | None:
        return openable_path(stored["id"], self.cwd) if stored.get("path") is not None else None

    def original_file(self, params: Params) -> Response:
        """The original file of an indexed document, if it is still the file that was indexed."""
        doc_id = params.get("id")
        if not doc_id:
            raise HTTPError(400, "Paramètre id manquant.")
        stored = self.reading(self.index.get, doc_id)
        if stored is None or stored.get("path") is None:
            raise HTTPError(404, "Aucun fichier indexé sous ce nom.")
        path = stored["id"]  # a file's id is its absolute path, as indexed
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            raise HTTPError(404, "Le fichier n’existe plus à cet endroit (ou est un lien symbolique).") from None
        handle = os.fdopen(fd, "rb")
        try:
            st = os.fstat(fd)
            if (
                not statmod.S_ISREG(st.st_mode)
                or st.st_size != stored.get("size")
                or st.st_mtime != stored.get("mtime")
            ):
                raise HTTPError(409, "Le fichier a changé depuis qu’il a été indexé : relancez frsearch index.")
            suffix = os.path.splitext(path)[1].lower()
            kind = _INLINE_TYPES.get(suffix)
            headers = {
                # Its own origin, no script, nothing fetched: a hostile file runs nothing.
                "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
                "Content-Disposition": ("inline" if kind else "attachment") + "; filename*=UTF-8''"
                + _quote_filename(os.path.basename(path)),
            }
            if kind and kind.startswith("text/"):
                kind += "; charset=" + _charset(handle)
            response = Response(200, b"", kind or "application/octet-stream", headers, stream=handle)
            response.headers["Content-Length"] = str(st.st_size)
            return response
        except BaseException:
            handle.close()
            raise

    # -- the page's own files ----------------------------------------------------

    def static(self, name: str) -> Response:
        content_type = STATIC.get(name)
        if content_type is None:
            raise HTTPError(404, "Fichier introuvable.")
        body = self._static.get(name)
        if body is None:
            body = self._static[name] = resources.files("frsearch.serve").joinpath("static", name).read_bytes()
        return Response(200, body, content_type, {"Cache-Control": "no-cache"})


def _joined_spans(text: str, terms: set[str]) -> list[tuple[int, int]]:
    """Offsets of the words of ``text`` with one of ``terms``; ``États-Unis`` is one span."""
    if not terms or not text:
        return []
    out: list[tuple[int, int]] = []
    for start, end, _term in matched_spans(text, terms):
        if out and text[out[-1][1]:start] in _JOINERS:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _charset(handle: Any) -> str:
    """utf-8 when the start of the file reads as UTF-8 (or has a BOM), else windows-1252."""
    head = handle.read(65536)
    handle.seek(0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "windows-1252"
    return "utf-8"


def _quote_filename(name: str) -> str:
    from urllib.parse import quote

    return quote(name.encode("utf-8", "surrogateescape"), safe="")
