"""File paths as users type them and as they can open them."""

from __future__ import annotations

import os
import unicodedata

__all__ = ["nfc", "openable_path"]


def nfc(text: str) -> str:
    """Composed Unicode, so a name macOS wrote decomposed meets the same name typed."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def openable_path(path: str | None, cwd: str | None = None) -> str | None:
    """A file's absolute path as one can open it from ``cwd`` (the current folder by default).

    Relative when the file is under that folder, absolute otherwise.
    """
    if path is None:
        return None
    try:
        here = os.path.join(os.path.abspath(cwd or os.getcwd()), "")
    except OSError:  # the current folder was deleted
        return path
    return os.path.relpath(path, here) if path.startswith(here) else path
