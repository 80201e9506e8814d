"""``frsearch serve`` at the request level: the API, the server-rendered page, and every safety rule.

A real server on a loopback port answers real HTTP requests (and raw bytes on a socket
where a client library would refuse to send them).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest
from click.testing import CliRunner

import frsearch
from frsearch.cli import cli
from frsearch.serve import make_server
from frsearch.serve.server import DEFAULT_HOST
from tests.serve_support import (
    HOSTILE_NAME,
    PAGED_DOCS,
    PAGED_WORD,
    build_index,
    build_site,
    request,
    running_server,
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve")
    build_index(root)
    return root


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[Any]:
    with frsearch.Index.open(site / "index") as index, running_server(index, request_timeout=1.0) as srv:
        yield srv


def get_json(server: Any, target: str) -> tuple[int, Any]:
    status, headers, body = request(server, target)
    assert headers["content-type"] == "application/json"
    return status, json.loads(body)


def doc_id(site: Path, *parts: str) -> str:
    return str(site.joinpath("docs", *parts))


# -- the API and the page ---------------------------------------------------------------


def test_api_search_is_what_query_json_prints(server: Any, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(site)  # the CLI and the server show paths from the same folder
    monkeypatch.setattr(server.app, "cwd", str(site))
    for words, options in (("etats unsi", {}), ("Lei Jun blacklist", {"limit": 3, "offset": 1}),
                           (PAGED_WORD, {"limit": 5, "sort": "path"})):
        target = "/api/search?q=" + quote(words) + "".join(f"&{k}={v}" for k, v in options.items())
        status, data = get_json(server, target)
        args = ["query", words, "--json", "--index", str(site / "index")]
        for key, value in options.items():
            args += [f"--{key}", str(value)]
        printed = CliRunner().invoke(cli, args, catch_exceptions=False).stdout
        assert status == 200
        assert data == json.loads(printed)
    assert data["total"] == PAGED_DOCS and [h["path"] for h in data["hits"]][0] == "docs/paged/recette_00.md"


def test_api_shape_suggestion_and_explain(server: Any) -> None:
    status, data = get_json(server, "/api/search?q=gouvernemnet+chinois&limit=1&explain=1")
    assert status == 200
    assert data["suggestion"] == "gouvernement chinois" and data["count"] == 1 and data["total"] >= 1
    assert set(data) == {"query", "total", "offset", "count", "suggestion", "notes", "feedback", "explain", "hits"}
    hit = data["hits"][0]
    assert "gouvernement" in [hit["snippet"][s:e] for s, e in hit["spans"]]


def test_page_is_french_and_server_rendered(server: Any, site: Path) -> None:
    status, headers, body = request(server, "/?q=etats+unis+gouvernemnet&scores=1")
    page = body.decode("utf-8")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="fr">' in page
    assert "<mark>États-Unis</mark>" in page  # highlighted as written
    assert ('Vouliez-vous dire <a id="suggestion" href="/?q=etats%20unis%20gouvernement&amp;scores=1">'
            "etats unis gouvernement</a>") in page
    assert "documents — résultats 1 à" in page and "show-scores" in page
    assert "Syntaxe des requêtes" in page and "SAUF" in page and "titre:" in page
    # Filters: the folders and types of the indexed files.
    assert f'<option value="{site / "docs" / "paged"}">' in page and '<option value="md">.md (25)</option>' in page
    assert f'<option value="{site / "docs"}">{site / "docs"}/ ({PAGED_DOCS + 8})</option>' in page  # their parent
    _status, _headers, body = request(server, f"/?q={PAGED_WORD}+OR+xiaomi&under=" + quote(str(site / "docs")))
    assert f"{PAGED_DOCS + 5} documents" in body.decode("utf-8")  # every file is under docs/


def test_page_paging_filters_and_sort(server: Any) -> None:
    _status, _headers, body = request(server, f"/?q={PAGED_WORD}&page=3")
    page = body.decode("utf-8")
    assert f"{PAGED_DOCS} documents — résultats 21 à 25" in page
    assert page.count('class="hit"') == 5 and 'rel="prev"' in page and 'rel="next"' not in page
    _status, _headers, body = request(server, f"/?q={PAGED_WORD}+OR+xiaomi&type=txt")
    assert "recette" not in body.decode("utf-8") and "Xiaomi" in body.decode("utf-8")
    _status, _headers, body = request(server, f"/?q={PAGED_WORD}&sort=path")
    first = body.decode("utf-8").split('class="hit"')[1]
    assert "recette_00.md" in first
    _status, _headers, body = request(server, f"/?q={PAGED_WORD}&page=9")
    assert "Pas de résultat sur cette page : la requête trouve 25 documents (3 pages)." in body.decode("utf-8")


def test_document_view_highlights_every_match(server: Any, site: Path) -> None:
    target = "/doc?id=" + quote(doc_id(site, "seeds", "001_259af9e2aad0fd78.txt")) + "&q=" + quote("États-Unis")
    status, _headers, body = request(server, target)
    page = body.decode("utf-8")
    assert status == 200
    stored = (site / "docs" / "seeds" / "001_259af9e2aad0fd78.txt").read_text(encoding="utf-8")
    expected = stored.count("États-Unis")
    assert expected >= 3
    assert page.count('">États-Unis</mark>') == expected
    assert f'<mark id="m{expected}">' in page and f'id="m{expected + 1}"' not in page
    assert "Ouvrir le fichier original" in page and "Chemin" in page
    # The API gives the same document and spans.
    status, data = get_json(server, target.replace("/doc", "/api/doc", 1))
    assert [data["body"][s:e] for s, e in data["spans"]] == ["États-Unis"] * expected


def test_original_file_is_served_in_a_sandbox(server: Any, site: Path) -> None:
    status, headers, body = request(server, "/file?id=" + quote(doc_id(site, "hostile", "page.html")))
    assert status == 200 and body == (site / "docs" / "hostile" / "page.html").read_bytes()
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-security-policy"].startswith("sandbox;")
    assert "script-src" not in headers["content-security-policy"]
    status, headers, body = request(server, "/file?id=" + quote(doc_id(site, "seeds", "000_60564f4e513c8b83.txt")))
    assert status == 200 and headers["content-type"] == "text/plain; charset=utf-8"


# -- safety: what can be read ----------------------------------------------------------

SECRET = "root:x:0:0 secret content"


@pytest.mark.parametrize(
    "target",
    [
        "/doc?id=/etc/passwd",
        "/file?id=/etc/passwd",
        "/file?id=../../../../etc/passwd",
        "/api/doc?id=/etc/passwd",
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2f..%2fetc%2fpasswd",
        "/static/app.py",
        "/static/%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
        "/etc/passwd",
        "/static/",
        "/static/static/app.js",
        "/favicon.ico",
    ],
)
def test_no_request_reads_a_file_that_is_not_indexed(server: Any, target: str) -> None:
    status, _headers, body = request(server, target)
    assert status == 404, (target, status)
    assert b"root:" not in body


@pytest.mark.parametrize("suffix", ["%00", "%00.txt", "/../001_259af9e2aad0fd78.txt", "/.", "%2f", "%2F..%2F"])
def test_ids_are_not_paths(server: Any, site: Path, suffix: str) -> None:
    base = quote(doc_id(site, "seeds", "000_60564f4e513c8b83.txt"))
    for route in ("/file", "/doc", "/api/doc"):
        status, _headers, _body = request(server, f"{route}?id={base}{suffix}")
        assert status in (400, 404), (route, suffix, status)


def test_files_out_of_the_index_through_symlinks_and_changes(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text(SECRET, encoding="utf-8")
    (docs / "a.txt").write_text("Premier document, assez long pour être remplacé.", encoding="utf-8")
    (docs / "b.txt").write_text("Second document, qui va changer.", encoding="utf-8")
    (docs / "lien.txt").symlink_to(outside)  # indexed on purpose: its text is in the index
    (docs / "sous").symlink_to(tmp_path, target_is_directory=True)  # a folder link is not followed
    with frsearch.Index(tmp_path / "index") as index:
        index.index_paths([str(docs)])
        assert sorted(os.path.basename(i) for i in index.ids()) == ["a.txt", "b.txt", "lien.txt"]
        with running_server(index) as srv:
            # The file of an indexed link is never served (its target may be anywhere).
            status, _h, body = request(srv, "/file?id=" + quote(str(docs / "lien.txt")))
            assert status == 404 and b"secret" not in body
            status, _h, body = request(srv, "/file?id=" + quote(str(tmp_path / "secret.txt")))
            assert status == 404
            status, _h, body = request(srv, "/doc?id=" + quote(str(docs / "sous" / "secret.txt")))
            assert status == 404
            # An indexed file replaced by a link to a file outside, with the same size and time.
            st = (docs / "a.txt").stat()
            (docs / "a.txt").unlink()
            (docs / "a.txt").symlink_to(outside)
            os.utime(outside, ns=(st.st_atime_ns, st.st_mtime_ns))
            status, _h, body = request(srv, "/file?id=" + quote(str(docs / "a.txt")))
            assert status == 404 and b"secret" not in body
            # An indexed file changed since: refused until it is indexed again.
            (docs / "b.txt").write_text("Changé !", encoding="utf-8")
            status, _h, body = request(srv, "/file?id=" + quote(str(docs / "b.txt")))
            assert status == 409 and "relancez frsearch index" in body.decode("utf-8")


# -- safety: escaping and headers ----------------------------------------------------------


def test_hostile_documents_are_escaped_everywhere(server: Any, site: Path) -> None:
    pages = [
        request(server, "/?q=pi%C3%A8ge")[2].decode("utf-8"),
        request(server, "/doc?id=" + quote(doc_id(site, "hostile", "piege.txt")) + "&q=pi%C3%A8ge")[2].decode("utf-8"),
        request(server, "/doc?id=" + quote(doc_id(site, "hostile", HOSTILE_NAME)))[2].decode("utf-8"),
        request(server, "/?q=" + quote("<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"))[2].decode("utf-8"),
    ]
    for page in pages:
        for markup in ("<script>window", "<img src=x", "<svg", "<iframe", 'href="javascript:', "<script>alert"):
            assert markup not in page
        # The only script is the page's own file.
        assert page.count("<script") == 1 and '<script src="/static/app.js" defer></script>' in page
    assert "&lt;script&gt;window.pwned = &#x27;title&#x27;&lt;/script&gt; <mark>Piège</mark> dans le titre" in pages[0]
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in pages[0]
    assert "onerror=&quot;window.pwned" in pages[1]


def test_headers_forbid_inline_script_and_cross_origin_reads(server: Any, site: Path) -> None:
    targets = ["/", "/?q=xiaomi", "/api/search?q=xiaomi", "/doc?id=" + quote(doc_id(site, "hostile", "piege.txt")),
               "/static/app.js", "/nothing", "/api/search"]
    for target in targets:
        status, headers, _body = request(server, target, headers={"Origin": "http://evil.example"})
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert not any(name.startswith("access-control-") for name in headers), target
    status, headers, _ = request(server, "/api/search?q=xiaomi", method="OPTIONS",
                                 headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
    assert status == 405 and not any(name.startswith("access-control-") for name in headers)


def test_a_foreign_host_name_is_refused_on_loopback(server: Any) -> None:
    port = server.server_address[1]
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.nip.io"):
        status, _h, body = request(server, "/api/search?q=xiaomi", headers={"Host": host})
        assert status == 421 and b"Xiaomi" not in body
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost"):
        assert request(server, "/api/search?q=xiaomi", headers={"Host": host})[0] == 200


# -- safety: malformed, huge, slow ---------------------------------------------------------


def raw(server: Any, data: bytes, wait: float = 0.0) -> bytes:
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        sock.sendall(data)
        if wait:
            time.sleep(wait)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET\r\n\r\n", 400),
        (b"GET / HTTP/9.9\r\n\r\n", 505),
        (b"GET /?q=" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"POST /api/search HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 405),
        (b"PUT /doc HTTP/1.1\r\n\r\n", 405),
        (b"BREW /api/search HTTP/1.1\r\n\r\n", 405),
        (b"GET /api/search?q=%ff%fe HTTP/1.1\r\n\r\n", 400),
        (b"GET /api/search?q=a%00b HTTP/1.1\r\n\r\n", 400),
        (b"GET /?q=caf%C3 HTTP/1.1\r\n\r\n", 400),
        (b"GET /api/search?q=xiaomi&limit=100000 HTTP/1.1\r\n\r\n", 400),
        (b"GET /api/search?q=xiaomi&offset=-1 HTTP/1.1\r\n\r\n", 400),
        (b"GET /api/search?q=xiaomi&limit=abc HTTP/1.1\r\n\r\n", 400),
        (b"GET /api/search?q=xiaomi&sort=evil HTTP/1.1\r\n\r\n", 400),
        (b"GET /?q=xiaomi&page=0 HTTP/1.1\r\n\r\n", 400),
        (b"GET /?q=xiaomi&type=../x HTTP/1.1\r\n\r\n", 400),
        (b"GET /api/search?" + b"&".join(b"a%d=1" % i for i in range(100)) + b" HTTP/1.1\r\n\r\n", 400),
        (b"GET /api/search?q=" + b"mot+" * 1000 + b" HTTP/1.1\r\n\r\n", 413),
        (b"GET /api/search?q=" + b"+".join(b"ab%d*" % i for i in range(40)) + b" HTTP/1.1\r\n\r\n", 400),
        (b"GET /api/search?q=le+la+les HTTP/1.1\r\n\r\n", 400),
        (b"GET /api/search HTTP/1.1\r\n\r\n", 400),
        (b"GET http://evil.example/ HTTP/1.1\r\n\r\n", 400),
    ],
)
def test_malformed_and_huge_requests_get_a_4xx_and_the_server_goes_on(server: Any, data: bytes, expected: int) -> None:
    answer = raw(server, data)
    assert status_of(answer) == expected, answer[:300]
    assert b"Traceback" not in answer
    assert request(server, "/api/search?q=xiaomi")[0] == 200


def test_slow_requests_get_408_and_do_not_block_others(server: Any) -> None:
    # The server was made with a 1 s request timeout; a client that stops half-way is cut off.
    started = time.monotonic()
    with socket.create_connection(server.server_address[:2], timeout=10) as slow:
        slow.sendall(b"GET /?q=xia")
        # Meanwhile the server answers others.
        assert request(server, "/api/search?q=xiaomi")[0] == 200
        answer = slow.recv(65536)
    assert status_of(answer) == 408 and time.monotonic() - started < 5
    with socket.create_connection(server.server_address[:2], timeout=10) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")  # headers never finished
        assert status_of(slow.recv(65536)) == 408


def test_a_search_that_takes_too_long_is_bounded(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with frsearch.Index.open(site / "index") as index, running_server(index, search_timeout=0.3) as srv:
        real_search = index.search
        monkeypatch.setattr(index, "search", lambda *a, **k: (time.sleep(1.5), real_search(*a, **k))[1])
        started = time.monotonic()
        status, data = get_json(srv, "/api/search?q=xiaomi")
        assert status == 503 and "trop longue" in data["error"]
        status, _h, body = request(srv, "/?q=xiaomi")
        assert status == 503 and "Recherche trop longue" in body.decode("utf-8")
        assert time.monotonic() - started < 1.5  # answered before the searches finished
        monkeypatch.setattr(index, "search", real_search)
        deadline = time.monotonic() + 20  # the server goes on once the slow searches are done
        while get_json(srv, "/api/search?q=xiaomi")[0] != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_head_and_errors_in_french(server: Any) -> None:
    status, headers, body = request(server, "/?q=xiaomi", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 1000
    status, _h, body = request(server, "/nulle-part")
    assert status == 404 and "Page introuvable" in body.decode("utf-8")
    status, data = get_json(server, "/api/search?q=le+la")
    assert status == 400 and data["status"] == 400 and data["error"]


# -- the index changes while serving ---------------------------------------------------------


def test_new_commits_are_served_without_restart_while_index_writes(tmp_path: Path) -> None:
    docs = build_site(tmp_path)
    where = tmp_path / "index"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

    def index_run() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "frsearch", "index", str(docs), "--index", str(where),
                                 "--quiet"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    assert index_run().wait(120) == 0
    with running_server(where) as srv:
        status, data = get_json(srv, "/api/search?q=ornithorynque")
        assert status == 200 and data["total"] == 0
        extra = docs / "extra"
        extra.mkdir()
        for n in range(300):
            (extra / f"note_{n:03d}.txt").write_text(
                f"Note {n}\n\nUn ornithorynque numéro {n} nage dans la rivière. " * 3, encoding="utf-8")
        seed = quote(str(docs / "seeds" / "001_259af9e2aad0fd78.txt"))
        run = index_run()
        answers: list[tuple[int, int]] = []
        others: list[int] = []

        def reader(target: str) -> None:
            while run.poll() is None:
                others.append(request(srv, target)[0])

        readers = [threading.Thread(target=reader, args=(t,)) for t in
                   (f"/doc?id={seed}&q=xiaomi", "/?q=ornithorynque", f"/api/doc?id={seed}")]
        for thread in readers:
            thread.start()
        while run.poll() is None:  # searches, pages and documents while the other process writes
            status, data = get_json(srv, "/api/search?q=xiaomi+OR+ornithorynque&limit=3")
            answers.append((status, data["total"]))
        for thread in readers:
            thread.join()
        assert run.wait() == 0
        assert others and all(status == 200 for status in others)
        assert answers and all(status == 200 for status, _t in answers)
        seeds_hits = get_json(srv, "/api/search?q=xiaomi")[1]["total"]
        assert all(total in (seeds_hits, seeds_hits + 300) for _s, total in answers)  # one commit or the other
        status, data = get_json(srv, "/api/search?q=ornithorynque")
        assert data["total"] == 300  # the new commit, same server
        status, _h, body = request(srv, "/?q=ornithorynque")
        assert "300 documents" in body.decode("utf-8")


# -- the command --------------------------------------------------------------------------


def test_binds_loopback_by_default(site: Path) -> None:
    assert DEFAULT_HOST == "127.0.0.1"
    with frsearch.Index.open(site / "index") as index:
        srv = make_server(index, port=0)
        try:
            assert srv.server_address[0] == "127.0.0.1" and srv.loopback_only
        finally:
            srv.server_close()


@pytest.mark.parametrize("host, warned", [("0.0.0.0", True), ("127.0.0.1", False), ("localhost", False)])
def test_command_warns_when_documents_become_reachable(site: Path, host: str, warned: bool) -> None:
    # The installed command, in a process of its own.
    with subprocess.Popen(["frsearch", "serve", "--index", str(site / "index"), "--port", "0", "--host", host],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as process:
        assert process.stderr is not None
        first = process.stderr.readline()
        try:
            check_first_line(first, warned)
        finally:
            process.terminate()
            process.communicate(timeout=10)


def check_first_line(first: str, warned: bool) -> None:
    if warned:
        assert first.startswith("warning: listening on 0.0.0.0, not on 127.0.0.1: the indexed documents "
                                "become readable by anyone"), first
        return
    assert first.startswith("frsearch: serving "), first
    url = first.split(" at ", 1)[1].split(" ", 1)[0]
    import urllib.request

    with urllib.request.urlopen(url + "api/search?q=xiaomi", timeout=10) as answer:
        assert json.load(answer)["total"] >= 1


def test_command_errors_are_one_line(tmp_path: Path, site: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path / "none")])
    assert result.exit_code == 2 and "frsearch: error: no index at" in result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--index", str(site / "index"), "--port", str(port)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"frsearch: error: port {port} is already in use on 127.0.0.1"


def test_query_does_not_import_the_server(site: Path) -> None:
    code = (
        "import sys\n"
        "from frsearch.cli import main\n"
        f"sys.argv = ['frsearch', 'query', 'xiaomi', '--index', {str(site / 'index')!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('frsearch.serve', 'http.server', 'socketserver', 'concurrent.futures')"
        " if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr
    assert "Xiaomi" in done.stdout


def test_a_hit_with_a_page_shows_it() -> None:
    # Readers of paged formats (PDF) give hits a "page"; the page shows it as "p. N".
    from frsearch.serve.pages import hit_item

    hit = {"id": "/d/a.pdf", "path": "d/a.pdf", "title": "Rapport", "title_spans": [], "score": 1.5,
           "snippet": "le <b>mot</b>", "spans": [[3, 13]], "matched_terms": ["mot"]}
    assert "p. " not in hit_item(hit, "mot")
    item = hit_item({**hit, "page": 12}, "mot")
    assert '<span class="pageno">p. 12</span>' in item
    assert '<p class="snippet">le <mark>&lt;b&gt;mot&lt;/b&gt;</mark></p>' in item
