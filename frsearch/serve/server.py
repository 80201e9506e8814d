"""The HTTP server of ``frsearch serve``: the standard library's ThreadingHTTPServer around :class:`App`.

Chosen for a tool installed with pip: nothing to install, and only ``serve``
imports it. Each connection gets a thread; searches run one at a time in the
index's engine, so more threads would not make them faster. The server itself
guards what the routes cannot see: request lines and headers too long or too slow
(408 after :data:`REQUEST_TIMEOUT`), methods other than GET and HEAD, and a
``Host`` that is not this machine while it listens on the loopback only (a web
page that rebinds its own name to 127.0.0.1 cannot read the documents).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from frsearch.index import Index, default_index_path
from frsearch.serve.app import App, Response, ServeError

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "FrsearchServer", "is_loopback", "make_server", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: Seconds a client has to send its request line and headers (then 408).
REQUEST_TIMEOUT = 10.0
#: Longest request line accepted, in bytes (then 414).
MAX_REQUEST_LINE = 8192 + 64

#: Sent with every answer. The CSP allows only the page's own script and style sheet:
#: no inline script, no script from a document, nothing fetched from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def network_warning(host: str, port: int) -> str:
    return (
        f"warning: listening on {host}, not on 127.0.0.1: the indexed documents become readable "
        f"by anyone who can reach this machine on port {port}."
    )


class Handler(BaseHTTPRequestHandler):
    server: "FrsearchServer"
    server_version = "frsearch"
    sys_version = ""
    protocol_version = "HTTP/1.0"  # one request a connection: nothing left unread to confuse the next

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        self.timeout = self.server.request_timeout
        super().setup()

    def handle_one_request(self) -> None:
        self.close_connection = True
        self.requestline, self.request_version, self.command, self.path = "", "HTTP/1.0", "", ""
        try:
            line = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if not line:
                return
            if len(line) > MAX_REQUEST_LINE:
                self.send_error(414, "Adresse trop longue.")
                return
            self.raw_requestline = line
            if not self.parse_request():  # has answered 400, 414, 431 or 505
                return
            self.dispatch()
            self.wfile.flush()
        except TimeoutError:
            try:
                self.send_error(408, "Requête trop lente.")
            except OSError:
                pass
        except (ConnectionError, BrokenPipeError):
            pass

    def dispatch(self) -> None:
        method = self.command.upper()
        if self.server.loopback_only:
            host = self.headers.get("Host")
            if host is not None and not is_loopback(_host_name(host)):
                self.send_error(421, "Hôte non autorisé : ce serveur ne répond qu’à 127.0.0.1 et localhost.")
                return
        response = self.server.app.handle(method, self.path)
        self.write(response, head_only=method == "HEAD")

    def write(self, response: Response, head_only: bool = False) -> None:
        try:
            self.send_response(response.status)
            headers = dict(SECURITY_HEADERS)
            headers.update(response.headers)
            headers["Content-Type"] = response.content_type
            if response.stream is None:
                headers["Content-Length"] = str(len(response.body))
            if response.status == 405:
                headers["Allow"] = "GET, HEAD"
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if head_only:
                return
            if response.stream is None:
                self.wfile.write(response.body)
                return
            left = int(headers.get("Content-Length", "0"))
            while left > 0:
                chunk = response.stream.read(min(left, 1 << 16))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
        finally:
            if response.stream is not None:
                response.stream.close()

    # Every error the standard handler sends (bad request line, too many headers...) goes
    # through here, with the same headers as our own answers and a French message.
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self.close_connection = True
        text = message or {
            400: "Requête mal formée.", 404: "Page introuvable.", 405: "Méthode non permise.",
            408: "Requête trop lente.", 414: "Adresse trop longue.", 431: "En-têtes trop longs.",
            501: "Méthode non permise.", 505: "Version HTTP non prise en charge.",
        }.get(code, "Requête refusée.")
        if code == 501:
            code = 405
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # answer with a status line, which HTTP/0.9 lacks
        api = getattr(self, "path", "").startswith("/api/")
        self.write(self.server.app.error(code, text, api), head_only=getattr(self, "command", "") == "HEAD")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log is not None:
            self.server.log("%s - %s" % (self.address_string(), format % args))


def _host_name(host: str) -> str:
    """The name of a ``Host`` header, without its port."""
    host = host.strip()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class FrsearchServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that answers with an :class:`App`."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], app: App, *, request_timeout: float = REQUEST_TIMEOUT,
                 log: Callable[[str], None] | None = None) -> None:
        host = address[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        self.request_timeout = request_timeout
        self.log = log
        self.loopback_only = is_loopback(host)
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for the host's full name: slow, and not needed.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}/"

    def server_close(self) -> None:
        super().server_close()
        self.app.close()


def make_server(
    index: Index | str | os.PathLike[str] | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    request_timeout: float = REQUEST_TIMEOUT,
    search_timeout: float | None = None,
    log: Callable[[str], None] | None = None,
) -> FrsearchServer:
    """A server (not yet serving) for the index at ``index`` (an open Index or its path).

    ``port=0`` takes any free port (see ``server.url``). Raises IndexNotFoundError when
    there is no index, ServeError when the address cannot be used.
    """
    if not isinstance(index, Index):
        index = Index.open(index if index is not None else default_index_path())
    app = App(index) if search_timeout is None else App(index, search_timeout=search_timeout)
    try:
        return FrsearchServer((host, port), app, request_timeout=request_timeout, log=log)
    except OSError as exc:
        app.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} is already in use on {host}",
                             "Choose another with --port (or --port 0 for any free port).") from None
        if exc.errno == errno.EACCES:
            raise ServeError(f"no permission to listen on port {port}",
                             "Choose a port above 1023 with --port.") from None
        raise ServeError(f"cannot listen on {host} port {port}: {exc.strerror or exc}",
                         "Check --host (an address of this machine, e.g. 127.0.0.1).") from None


def serve(
    index: Index | str | os.PathLike[str] | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    open_browser: bool = False,
    say: Callable[[str], None] | None = None,
) -> None:
    """Serve the page until interrupted (Ctrl-C). ``say`` prints messages (stderr by default)."""
    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    server = make_server(index, host, port)
    try:
        if not server.loopback_only:
            say(network_warning(host, server.server_address[1]))
        say(f"frsearch: serving {server.app.index.path} at {server.url} (Ctrl-C to stop)")
        if open_browser:
            import webbrowser

            threading.Timer(0.3, webbrowser.open, args=(server.url,)).start()
        server.serve_forever()
    finally:
        server.server_close()
