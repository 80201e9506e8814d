"""The on-disk format of an index: its metadata, segment checks, damage, key encoding.

An index folder holds Whoosh's files (a table of contents ``_MAIN_N.toc`` per commit, the
segments' files ``MAIN_<id>.*``) and ``frsearch.json``: the format version, the version of
frsearch that wrote it, and the size of each file of the live segments. Segment files
never change once written, so a size that differs, or a file that is gone, is damage,
found when the index is opened. Damaged bytes surface as many kinds of exceptions from
Whoosh and the modules it decodes with; :func:`damage_error` turns them into one
IndexFormatError with the rebuild hint. Ids and paths are stored through
:func:`encode_key` (file names with undecodable bytes).
"""

from __future__ import annotations

import errno
import gc
import io
import json
import os
import pickle
import re
import shutil
import struct
import time
import traceback
import warnings
import zlib
from typing import Any, Callable

from whoosh import index as whoosh_index

from frsearch._version import __version__
from frsearch.documents import SURROGATE_RE
from frsearch.errors import FrsearchError, IndexFormatError
from frsearch.postings import DamagedArrays

__all__ = [
    "FORMAT_VERSION", "INDEX_NAME", "META_FILE", "check_segments", "close_files_left_open", "collect_orphans",
    "damage_error", "decode_key", "encode_key", "exists", "has_segments", "read_meta", "record_segments", "wipe",
    "write_meta",
]

#: Bumped whenever what is written to disk changes; an index of another format must be rebuilt.
FORMAT_VERSION = 4  # 4: postings only as the scorer's arrays; author, date and pages; legal references
META_FILE = "frsearch.json"
INDEX_NAME = "MAIN"
SEGMENT_FILE_RE = re.compile(rf"{INDEX_NAME}_[0-9a-z]+\.")


# ---------------------------------------------------------------------------
# Metadata and segment checks


def exists(path: str) -> bool:
    if not os.path.isdir(path):
        return False
    return os.path.exists(os.path.join(path, META_FILE)) or any(
        name.startswith(f"_{INDEX_NAME}_") for name in os.listdir(path)
    )


def read_meta(path: str) -> dict[str, Any]:
    try:
        with open(os.path.join(path, META_FILE), encoding="utf-8") as handle:
            meta = json.load(handle)
        if not isinstance(meta, dict):
            raise ValueError("not an object")
        return meta
    except FileNotFoundError:
        raise IndexFormatError(f"{path} is not a frsearch index (no {META_FILE})") from None
    except (OSError, ValueError) as exc:
        raise IndexFormatError(f"cannot read {META_FILE} in {path}: {exc}") from None


def has_segments(path: str) -> bool:
    return any(SEGMENT_FILE_RE.match(name) for name in os.listdir(path))


def check_segments(path: str, ix: Any, damage: Callable[[BaseException], IndexFormatError | None]) -> None:
    """IndexFormatError when a file of a live segment is missing or has another size."""
    recorded = read_meta(path).get("segments")
    if not isinstance(recorded, dict):
        return
    try:
        live = [segment.segment_id() for segment in ix._segments()]
    except Exception as exc:
        found = damage(exc)
        if found is None:
            raise
        raise found from None
    for segment_id in live:
        files = recorded.get(segment_id)
        if not isinstance(files, dict):
            continue  # committed by a run that could not record it: nothing to compare
        for name, size in files.items():
            try:
                actual = os.stat(os.path.join(path, name)).st_size
            except FileNotFoundError:
                raise IndexFormatError(f"the index in {path} is damaged ({name} is missing)") from None
            if actual != size:
                raise IndexFormatError(
                    f"the index in {path} is damaged ({name} has {actual:,} bytes, "
                    f"{size:,} were written)"
                )


def write_meta(path: str, segments: dict[str, dict[str, int]] | None = None) -> None:
    meta: dict[str, Any] = {"format": FORMAT_VERSION, "frsearch": __version__, "created": time.time()}
    if segments is not None:
        try:
            meta["created"] = read_meta(path).get("created", meta["created"])
        except FrsearchError:
            pass
        meta["segments"] = segments
    tmp = os.path.join(path, META_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(meta, handle)
    os.replace(tmp, os.path.join(path, META_FILE))


def wipe(path: str) -> None:
    """Remove every file of this index directory (for a rebuild of an unreadable index)."""
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if name == f"{INDEX_NAME}_WRITELOCK":
            continue  # held by this process while it wipes
        if name == META_FILE or name.startswith((f"_{INDEX_NAME}_", f"{INDEX_NAME}_")) or (
            name.endswith((".seg", ".trm", ".pst", ".fsp", ".vps", ".fln", ".sto", ".col", ".toc", ".tmp"))
        ):
            if os.path.isdir(full):
                shutil.rmtree(full)
            else:
                os.remove(full)


def record_segments(path: str, ix: Any) -> None:
    """Note the size of each file of the live segments in frsearch.json (see check_segments)."""
    try:
        names = os.listdir(path)
        segments: dict[str, dict[str, int]] = {}
        for segment in ix._segments():
            prefix = segment.segment_id() + "."
            segments[segment.segment_id()] = {
                name: os.stat(os.path.join(path, name)).st_size
                for name in names if name.startswith(prefix)
            }
        write_meta(path, segments)
    except (OSError, FrsearchError):
        pass  # another run changed the index meanwhile: its own commit records it


# A table of contents being written: Whoosh renames it to _MAIN_N.toc when it is complete.
TOC_TEMP_RE = re.compile(rf"_{INDEX_NAME}_\d+\.toc\..+")


# ---------------------------------------------------------------------------
# Damage


# Errors of the environment, not of the index: reported as they are, never as damage.
_ENVIRONMENT_ERRNOS = frozenset(
    code
    for code in (
        errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS, errno.EMFILE, errno.ENFILE,
        errno.ENOMEM, getattr(errno, "EDQUOT", None), errno.EINTR,
    )
    if code is not None
)
# What decoding damaged bytes raises, in Whoosh or in the modules it decodes with.
_DECODING_ERRORS = (
    EOFError, struct.error, zlib.error, pickle.UnpicklingError, UnicodeDecodeError, DamagedArrays,
)
_WHOOSH_DIR = os.path.dirname(whoosh_index.__file__) + os.sep


def _raised_in_whoosh(exc: BaseException) -> bool:
    """Whether the exception was raised inside Whoosh's code (where damaged files are read)."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    return last is not None and last.tb_frame.f_code.co_filename.startswith(_WHOOSH_DIR)


def close_files_left_open(exc: BaseException) -> None:
    """Close the index files Whoosh had opened when it failed on damaged bytes.

    Whoosh does not close them on that path (a compound segment file whose
    directory cannot be read, for instance); they would stay open until the
    garbage collector finds them. Only files held by Whoosh's own frames are closed.
    """
    from whoosh.filedb.structfile import StructFile

    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename.startswith(_WHOOSH_DIR):
            for value in list(frame.f_locals.values()):
                if isinstance(value, (StructFile, io.IOBase)):
                    try:
                        value.close()
                    except Exception:
                        pass
        tb = tb.tb_next
    # Readers Whoosh had half built (one per segment file) are reachable only from
    # the failed frames: drop those frames and let the collector close their files.
    traceback.clear_frames(exc.__traceback__)
    collect_orphans()


def collect_orphans() -> None:
    """Close, without a warning for each, the files of readers Whoosh abandoned on damaged bytes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def damage_error(path: str | None, exc: BaseException) -> IndexFormatError | None:
    """The IndexFormatError an exception from reading the index stands for, or None.

    Damaged files surface as many kinds of exceptions from Whoosh and the
    modules it decodes with; those become one IndexFormatError with the
    rebuild hint. frsearch's own errors, and errors of the environment (no
    permission, disk full), are not damage and pass unchanged.
    """
    if path is None or isinstance(exc, FrsearchError):
        return None
    if isinstance(exc, OSError):
        if exc.errno in _ENVIRONMENT_ERRNOS:
            return None
        damaged = isinstance(exc, FileNotFoundError) or _raised_in_whoosh(exc)
    else:
        damaged = isinstance(exc, _DECODING_ERRORS) or _raised_in_whoosh(exc)
    if not damaged:
        return None
    close_files_left_open(exc)
    return IndexFormatError(f"the index in {path} is damaged ({describe(exc)})")


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# ---------------------------------------------------------------------------
# Keys

# Paths from os.walk carry undecodable bytes of file names as lone surrogates
# (surrogateescape), which Whoosh cannot encode. Such ids and paths are stored as
# NUL + their UTF-8 bytes (surrogates passed through) read as Latin-1: NUL never
# occurs in a file name, so every other value is stored as it is, and the
# mapping is exact both ways.
_KEY_MARK = "\x00"


def encode_key(value: str) -> str:
    if value.startswith(_KEY_MARK) or SURROGATE_RE.search(value):
        return _KEY_MARK + value.encode("utf-8", "surrogatepass").decode("latin-1")
    return value


def decode_key(value: str) -> str:
    if value.startswith(_KEY_MARK):
        return value[1:].encode("latin-1").decode("utf-8", "surrogatepass")
    return value
