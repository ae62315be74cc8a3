"""Atomic writes on the ground floor: a file or a folder appears whole or not at all, never half-written.

Every writer works in a uniquely named temporary sibling (pid + random suffix, so two processes never share
one) and renames it into place; a killed process leaves only a hidden temporary behind.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
>>> _ = write_text(path, "hello")
>>> path.read_text()
'hello'
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)
# Exceptions a damaged cache file raises on reading (numpy, zip, parquet/arrow, json, yaml, safetensors).
DAMAGED = (OSError, ValueError, KeyError, EOFError, UnicodeDecodeError)


def _sibling(path: Path, tag: str) -> Path:
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary file path to write; on success it replaces ``path``, on failure it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path, "tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


@contextlib.contextmanager
def atomic_dir(path: str | Path, kind: str = "folder", config_hash: str = "") -> Iterator[Path]:
    """Yield an empty temporary folder; on success it is stamped and replaces the folder ``path``.

    An existing ``path`` is replaced only when steervis wrote it (see :func:`steervis.outputs.may_replace`).
    """
    from steervis.outputs import restore_interrupted_swap, write_stamp

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    restore_interrupted_swap(path)
    if path.exists() and not path.is_dir():
        from steervis.errors import SteervisError

        raise SteervisError(f"{path} is a file; give a folder path (or remove the file).")
    tmp = _sibling(path, "partial")
    tmp.mkdir()
    try:
        yield tmp
        write_stamp(tmp, kind, config_hash)  # last, listing the files: a folder without it was never finished
        replace_dir(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def replace_dir(staging: str | Path, path: str | Path) -> Path:
    """Put the finished folder ``staging`` at ``path``, moving an old ``path`` aside first and removing it
    after.

    The old folder is removed only when steervis wrote it; a folder of the user's own is refused, never
    deleted.
    """
    from steervis.outputs import foreign_files, may_replace

    staging, path = Path(staging), Path(path)
    if not may_replace(path):
        from steervis.errors import SteervisError

        raise SteervisError(f"{path} holds files steervis did not write ({foreign_files(path)}): it is left "
                            "as it is; give a new or empty folder.")
    if path.exists():
        old = _sibling(path, "old")
        os.replace(path, old)
        os.replace(staging, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, path)
    return path


def set_aside(path: str | Path, err: BaseException | str, what: str = "cache file") -> Path:
    """Rename a damaged ``path`` to ``<name>.corrupt`` (kept for a post-mortem) and say so in one line.

    The caller then recomputes what it held; nothing is deleted, and the next run no longer trips on it.
    """
    path = Path(path)
    aside = path.with_name(path.name + ".corrupt")
    with contextlib.suppress(FileNotFoundError):  # another process set it aside first
        os.replace(path, aside)
    reason = err if isinstance(err, str) else type(err).__name__
    log.warning("%s %s is damaged (%s): set aside as %s, recomputing what it held", what, path, reason,
                aside.name)
    return aside
