"""Whoosh storage for in-memory indexes, with a private folder for temporary files.

Whoosh's RamStorage spills sort runs to ``$TMPDIR/<indexname>.tmp``: a folder
shared by every process on the machine, so two in-memory indexes built at
once delete each other's files. Each in-memory index here gets a private
folder of its own, created when a writer first needs it and removed when the
index is closed (or garbage-collected).
"""

from __future__ import annotations

import os
import tempfile
import weakref
from typing import Any

from whoosh.filedb.filestore import FileStorage, RamStorage


def _remove_empty_folders(root: str) -> None:
    """Remove ``root`` and the empty folders in it; folders still in use keep their files."""
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        try:
            os.rmdir(os.path.join(root, name))
        except OSError:
            pass
    try:
        os.rmdir(root)
    except OSError:
        pass


class PrivateTempRamStorage(RamStorage):
    """A RamStorage whose temporary files go to one private folder of its own."""

    _folder: str | None = None

    def temp_storage(self, name: Any = None) -> FileStorage:
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="frsearch-")
            weakref.finalize(self, _remove_empty_folders, self._folder)
        # Whoosh asks for several temporary storages per writer, uses them at the same
        # time and removes only some: each gets its own subfolder of the private one.
        return FileStorage(tempfile.mkdtemp(dir=self._folder)).create()

    def remove_temp_folder(self) -> None:
        """Remove the private folder (not Whoosh's close(), which its readers call)."""
        if self._folder is not None:
            _remove_empty_folders(self._folder)
            if not os.path.exists(self._folder):
                self._folder = None
