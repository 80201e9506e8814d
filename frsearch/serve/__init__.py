"""``frsearch serve``: a local web page and a JSON API to search and read an index.

Imported only by the ``serve`` command (and by programs that want the page), so that
``frsearch query`` never pays for ``http.server``.

- :mod:`frsearch.serve.app`: the routes, from a request target to a response, with no socket;
- :mod:`frsearch.serve.pages`: the HTML the server renders (the page works without JavaScript);
- :mod:`frsearch.serve.server`: the standard-library HTTP server around them;
- ``static/``: the page's script and style sheet, served from the installed package.
"""

from frsearch.serve.app import App, Response, ServeError
from frsearch.serve.server import DEFAULT_HOST, DEFAULT_PORT, make_server, serve

__all__ = ["App", "DEFAULT_HOST", "DEFAULT_PORT", "Response", "ServeError", "make_server", "serve"]
