"""One exception tree: every error frsearch raises on purpose is a FrsearchError.

Each error carries a one-line message and, where there is one, a hint that
says how to fix it. The CLI turns them into messages and exit codes in one place.
"""

from __future__ import annotations


class FrsearchError(Exception):
    """Base class of every error frsearch raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class IndexNotFoundError(FrsearchError):
    """There is no index at the given location."""

    hint = "Run `frsearch index PATH` first to build one."


class IndexFormatError(FrsearchError):
    """The index exists but cannot be read: damaged, or written by another version."""

    hint = "Rebuild it with `frsearch index --rebuild PATH`."


class IndexLockedError(FrsearchError):
    """Another process is writing to the index."""

    hint = "Wait for the other `frsearch index` run to finish, or pass a longer --wait."


class QueryError(FrsearchError):
    """The query cannot be understood."""


class PathError(FrsearchError):
    """A file or folder given to index does not exist or cannot be read: nothing was changed."""

    hint = "Check the path (a renamed folder, a typo, a drive not mounted?); the index was left as it was."


class DocumentError(FrsearchError):
    """A document or file cannot be read or indexed."""
