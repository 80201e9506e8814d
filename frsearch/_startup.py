"""Import Whoosh without three packages it never uses in frsearch.

``whoosh.compat`` imports ``urllib.request`` for a download helper that
frsearch never calls, and ``cached_property`` (which ``whoosh.reading`` needs)
imports ``asyncio`` for coroutine methods that Whoosh does not have. The two
pull in http.client, email, ssl, socket and the event loop: about a sixth of
the import time of ``frsearch query``, which a CLI user feels on every call.
``whoosh.query`` (which every search needs) imports ``whoosh.lang.morph_en``,
whose English word-variation rules compile a hundred regular expressions
(8 ms) for a query type frsearch does not use.

This module is imported first by ``frsearch/__init__.py``. While it imports
those Whoosh modules, a stand-in takes the place of each package in
``sys.modules``; the stand-in's functions (the only names Whoosh's modules
take from it) import the real package when called, except for
``iscoroutinefunction``, which every reader calls once (see below). The
stand-ins are removed straight after, so any other code importing one of the
packages gets the real one. Nothing is done for a package that is already loaded.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any, Callable

#: Package -> the functions Whoosh's modules take from it.
_STAND_INS = {
    "urllib.request": ("urlretrieve",),
    "asyncio": ("iscoroutinefunction", "ensure_future"),
    "whoosh.lang.morph_en": ("variations",),
}


def _iscoroutinefunction(func: Any) -> bool:
    """``asyncio.iscoroutinefunction``, without importing asyncio to answer.

    asyncio's answer is inspect's, or true for a function carrying a private
    marker object of ``asyncio.coroutines``; before that module is loaded no
    function can carry it. (Whoosh's readers ask this of a method once each.)
    """
    coroutines = sys.modules.get("asyncio.coroutines")
    if coroutines is not None:
        return bool(coroutines.iscoroutinefunction(func))
    import inspect

    return inspect.iscoroutinefunction(func)


def _deferred(module: str, name: str) -> Callable[..., Any]:
    """A function that imports ``module`` when called and calls its ``name``."""
    if (module, name) == ("asyncio", "iscoroutinefunction"):
        return _iscoroutinefunction

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def _import_whoosh() -> None:
    if "whoosh.reading" in sys.modules:
        return
    placed = {}
    for module, names in _STAND_INS.items():
        if module in sys.modules:
            continue
        stand_in = types.ModuleType(module, "frsearch's stand-in while Whoosh is imported")
        for name in names:
            setattr(stand_in, name, _deferred(module, name))
        sys.modules[module] = placed[module] = stand_in
    try:
        import whoosh.compat  # noqa: F401
        import whoosh.query  # noqa: F401
        import whoosh.reading  # noqa: F401
    finally:
        for module, stand_in in placed.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]


_import_whoosh()
