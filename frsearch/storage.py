"""Whoosh storage for in-memory indexes, with a private folder for temporary files.

Whoosh's RamStorage spills sort runs to ``$TMPDIR/<indexname>.tmp``: a folder
shared by every process on the machine, so two in-memory indexes built at
once delete each other's files. Each writer here gets its own folder.
"""

from __future__ import annotations

import tempfile
from typing import Any

from whoosh.filedb.filestore import FileStorage, RamStorage


class PrivateTempRamStorage(RamStorage):
    """A RamStorage whose temporary files go to a fresh private folder each time."""

    def temp_storage(self, name: Any = None) -> FileStorage:
        folder = tempfile.mkdtemp(prefix="frsearch-")
        return FileStorage(folder).create()
