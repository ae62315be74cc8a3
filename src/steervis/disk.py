"""Before any compute, the disk and the other writers: one lock per output (a second writer is refused in one
sentence), a probe that the place is writable with room to spare, and one sentence for an OSError.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from steervis.errors import SteervisError

MB = 1 << 20


def lock_path(path: str | Path) -> Path:
    """The lock file of an output: in the cache, keyed by the output's resolved path, so the user's folders
    never collect lock files (and one left behind costs nothing)."""
    import hashlib

    from steervis.paths import cache_dir

    key = hashlib.sha256(str(Path(path).expanduser().resolve()).encode()).hexdigest()[:24]
    return cache_dir("locks") / f"{key}.lock"


@contextlib.contextmanager
def output_lock(path: str | Path, flag: str = "--out") -> Iterator[None]:
    """Hold the lock of the output ``path`` (a file or a folder) while computing and publishing it.

    A second process that asks for the same output is refused at once, in one sentence, before any compute:
    waiting would hide that two commands race for one result, and only one of them would land.
    """
    from filelock import FileLock, Timeout

    lock = lock_path(path)
    try:
        with FileLock(lock, timeout=0):
            yield
    except Timeout:
        raise SteervisError(f"Another steervis process is writing {flag} {path}: wait for it to finish, or "
                            "give another output.") from None


def nearest_existing(path: Path) -> Path:
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(path: str | Path, need_bytes: int = 0, what: str = "the output") -> None:
    """Refuse, before any compute, an output that cannot be written or whose disk lacks ``need_bytes``.

    Writes a probe file in the nearest existing folder (``os.access`` says yes to root on a read-only disk).
    """
    target = Path(path)
    base = nearest_existing(target)
    folder = base if base.is_dir() else base.parent
    probe = folder / f".steervis-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        hint = "set STEERVIS_HOME to a writable folder" if "cache" in what else "choose a writable place"
        raise SteervisError(f"Cannot write {what} {target}: {folder} is not writable "
                            f"({err.strerror or err}); {hint}.") from None
    free = shutil.disk_usage(folder).free
    if need_bytes and free < need_bytes:
        raise SteervisError(f"Not enough free space for {what} {target}: {free / MB:.0f} MB free on the "
                            f"disk of {folder}, about {need_bytes / MB:.0f} MB needed; free some space or "
                            "choose another place.")


def os_error_sentence(err: OSError) -> str:
    """One sentence for an OSError that reached the CLI: which path, what happened, what to do."""
    where = f" {err.filename}" if err.filename else ""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"The disk is full while writing{where}: free some space, then rerun the same command to "
                "resume.")
    if err.errno == errno.EROFS:
        return (f"Cannot write{where} (read-only file system): choose a writable place (for the cache: set "
                "STEERVIS_HOME).")
    if err.errno in (errno.EACCES, errno.EPERM):
        return f"Permission denied for{where or ' a file'}: check its permissions, or choose another place."
    what = f"{where.strip()}: " if where else ""
    return f"{what}{err.strerror or err} ({type(err).__name__}); check the path, then rerun the same command."
