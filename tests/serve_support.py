"""Helpers shared by the tests of ``frsearch serve`` (this module holds no tests).

A folder to index (the seeds, hostile documents, enough similar documents for three
pages of hits) and a real server on a free loopback port, run in a thread.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

import frsearch
from frsearch.serve import make_server

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

#: A word only the generated documents have: 25 hits, three pages of ten.
PAGED_WORD = "tartiflette"
PAGED_DOCS = 25

#: Markup that would run if a page used a document's text as HTML. Each sets window.pwned.
HOSTILE_MARKUP = (
    "<script>window.pwned = 'script'</script> "
    "<img src=x onerror=\"window.pwned = 'onerror'\"> "
    "<a id=\"jsl\" href=\"javascript:window.pwned = 'javascript'\">lien piégé</a> "
    "<svg onload=\"window.pwned = 'svg'\"><script>window.pwned = 'svgscript'</script></svg> "
    "<iframe src=\"javascript:parent.pwned = 'iframe'\"></iframe>"
)
HOSTILE_TITLE = "<script>window.pwned = 'title'</script> Piège dans le titre"
#: The name of a file that is itself markup.
HOSTILE_NAME = "<img src=x onerror=alert(1)>.txt"


def build_site(root: Path) -> Path:
    """The folder ``root/docs`` with the seeds, hostile documents and the paged documents."""
    docs = root / "docs"
    shutil.copytree(SEEDS, docs / "seeds")
    hostile = docs / "hostile"
    hostile.mkdir()
    (hostile / "piege.txt").write_text(
        f"{HOSTILE_TITLE}\n\nUn texte piégé contient du balisage : {HOSTILE_MARKUP}\n"
        "Le mot piège revient : piège, pièges.\n",
        encoding="utf-8",
    )
    (hostile / HOSTILE_NAME).write_text("Un nom de fichier piégé, pour la recherche piège.\n", encoding="utf-8")
    (hostile / "page.html").write_text(
        "<!doctype html><html><head><title>Page piégée</title>"
        "<script>document.title = 'pwned'; window.pwned = 'original'</script></head>"
        "<body><h1>Page piégée</h1><p>Une page piège qui voudrait lancer un script."
        "<img src=x onerror=\"document.title = 'pwned'\"></p></body></html>",
        encoding="utf-8",
    )
    paged = docs / "paged"
    paged.mkdir()
    for n in range(PAGED_DOCS):
        (paged / f"recette_{n:02d}.md").write_text(
            f"# Recette numéro {n}\n\nLa {PAGED_WORD} de la recette {n} demande "
            + "du reblochon, " * (n % 5 + 1) + "des pommes de terre et des lardons.\n",
            encoding="utf-8",
        )
    return docs


def build_index(root: Path) -> Path:
    """An index (``root/index``) of :func:`build_site`; returns its path."""
    docs = build_site(root)
    where = root / "index"
    with frsearch.Index(where) as index:
        report = index.index_paths([str(docs)])
        assert not report.skipped, report.skipped
    return where


@contextlib.contextmanager
def running_server(index: Any, **options: Any) -> Iterator[Any]:
    """A server on a free loopback port, serving in a thread while the block runs."""
    server = make_server(index, "127.0.0.1", 0, **options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def request(server: Any, target: str, method: str = "GET", headers: dict[str, str] | None = None,
            timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """One request: (status, headers with lower-case names, body)."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        headers = dict(headers or {})
        connection.putrequest(method, target, skip_host="Host" in headers, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()
