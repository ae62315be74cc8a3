"""What steervis may write over, and how a set of outputs appears: checked, locked, stamped, never mixed.

Three rules keep a user's files safe:

* **Ownership.** A folder is replaced only when steervis wrote it: it holds a completion stamp
  (:data:`STAMP`), or a model card (folders written before stamps existed), or it lies inside the cache
  (``STEERVIS_HOME``), which steervis owns. Anything else that is not empty is refused in one sentence.
* **One writer.** :func:`output_lock` holds a lock beside an output while a verb computes and publishes it; a
  second process writing the same output is refused in one sentence instead of silently losing one result.
* **Complete or marked.** A folder's stamp is written last, holding the config hash; :func:`read_stamp` tells a
  finished output from one a kill interrupted.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
>>> out.mkdir(); _ = (out / "thesis.txt").write_text("years of work")
>>> check_out_dir(out)
Traceback (most recent call last):
steervis.errors.SteervisError: --out ... holds files steervis did not write (thesis.txt): give a new or empty folder.
>>> _ = (out / "thesis.txt").unlink(); _ = write_stamp(out, "adapter", "abc")
>>> check_out_dir(out)
Traceback (most recent call last):
steervis.errors.SteervisError: --out ... holds a previous steervis adapter: add --overwrite to replace it, or give a new folder.
>>> check_out_dir(out, overwrite=True) == out.resolve()
True
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from steervis.errors import SteervisError

STAMP = ".steervis.json"  # hidden: a user listing the folder sees their results, not our bookkeeping
CARD = "card.json"  # the model card every saved model holds; marks folders written before stamps existed
MB = 1 << 20


def write_stamp(directory: str | Path, kind: str, config_hash: str = "", state: str = "finished",
                **facts: Any) -> Path:
    """Mark ``directory`` as a steervis ``kind`` output; ``finished`` is written after every other file.

    ``state="started"`` claims a folder that a resumable run fills over time (its parts), before it finishes.
    """
    import steervis

    stamp = {"kind": kind, "state": state, "config_hash": config_hash, "steervis": steervis.__version__,
             "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **facts}
    path = Path(directory) / STAMP
    tmp = path.with_name(f"{STAMP}.{os.getpid()}.tmp")  # not steervis.atomic: it imports this module
    tmp.write_text(json.dumps(stamp, indent=2))
    os.replace(tmp, path)
    return path


def read_stamp(directory: str | Path) -> dict[str, Any] | None:
    """The stamp of a finished output, or ``None`` (never finished, interrupted, or the stamp is damaged)."""
    try:
        stamp = json.loads((Path(directory) / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("state") == "finished" else None


def in_cache(path: str | Path) -> bool:
    """Whether ``path`` lies inside ``STEERVIS_HOME``, which steervis owns whole."""
    from steervis.paths import steervis_home

    return Path(path).resolve().is_relative_to(steervis_home().resolve())


def written_by_steervis(directory: str | Path) -> bool:
    """A stamp, or what folders written before stamps existed hold: a model card, or a run's parts and config."""
    directory = Path(directory)
    legacy_run = (directory / "parts").is_dir() and (directory / "config.yaml").is_file()
    return (directory / STAMP).is_file() or (directory / CARD).is_file() or legacy_run


def require_finished(directory: str | Path, what: str = "run folder") -> dict[str, Any]:
    """The stamp of a finished output (``{}`` for one written before stamps existed); one sentence when the
    output was started but never finished (a kill, or a run still going)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SteervisError(f"{directory} is not a folder: give a finished {what} written by steervis.")
    stamp = read_stamp(directory)
    if stamp is None and (directory / STAMP).exists():
        raise SteervisError(f"{what.capitalize()} {directory} is incomplete (started, never finished: the run was "
                            "interrupted or is still going): rerun the same command to finish it.")
    return stamp or {}


def may_replace(directory: str | Path) -> bool:
    """Whether steervis may remove the folder ``directory``: absent, empty, in the cache, or written by steervis."""
    directory = Path(directory)
    if not directory.exists():
        return True
    return (directory.is_dir() and not any(directory.iterdir())) or in_cache(directory) \
        or written_by_steervis(directory)


def foreign_files(directory: Path, shown: int = 3) -> str:
    names = sorted(p.name for p in directory.iterdir())
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def check_out_dir(path: str | Path, *, overwrite: bool = False, inputs: Iterable[str | Path] = (),
                  flag: str = "--out", kind: str | None = None) -> Path:
    """The resolved output folder of a verb, refused in one sentence when writing it would harm the user.

    Args:
        path: The folder the verb will (re)write whole.
        overwrite: Allow replacing a previous steervis output (never a folder of the user's own).
        inputs: Folders the verb reads (``--data``): the output may be neither one of them, inside one, nor
            above one, since replacing it would delete the input.
        flag: The option's name, for the message.
        kind: What a previous output is called in the message (default: the stamp's kind).
    """
    out = Path(path).expanduser().resolve()  # '.', '..' and symlinks resolved before any comparison
    if out.exists() and not out.is_dir():
        raise SteervisError(f"{flag} {path} is a file: give a folder path (or remove the file).")
    if any(p.exists() and not p.is_dir() for p in out.parents):
        raise SteervisError(f"{flag} {path}: a parent of it is a file, not a folder.")
    check_apart(path, inputs, flag)
    if not out.exists() or not any(out.iterdir()):
        return out
    if not written_by_steervis(out):
        raise SteervisError(f"{flag} {path} holds files steervis did not write ({foreign_files(out)}): "
                            "give a new or empty folder.")
    if not overwrite:
        what = kind or (read_stamp(out) or {}).get("kind") or "output"
        raise SteervisError(f"{flag} {path} holds a previous steervis {what}: add --overwrite to replace it, "
                            "or give a new folder.")
    return out


def check_apart(path: str | Path, inputs: Iterable[str | Path], flag: str = "--out") -> None:
    """Refuse an output folder that is an input folder, lies inside one, or holds one: writing or replacing it
    would change or destroy what the verb reads."""
    out = Path(path).expanduser().resolve()
    for given in inputs:
        src = Path(given).expanduser().resolve()
        if out == src or out.is_relative_to(src) or src.is_relative_to(out):
            where = "is" if out == src else "lies inside" if out.is_relative_to(src) else "holds"
            raise SteervisError(f"{flag} {path} {where} the input folder {given}: writing it would destroy the "
                                "input; give an output folder outside it.")


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
        raise SteervisError(f"Another steervis process is writing {flag} {path}: wait for it to finish, or give "
                            "another output.") from None


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
        raise SteervisError(f"Cannot write {what} {target}: {folder} is not writable ({err.strerror or err}); "
                            f"{hint}.") from None
    free = shutil.disk_usage(folder).free
    if need_bytes and free < need_bytes:
        raise SteervisError(f"Not enough free space for {what} {target}: {free / MB:.0f} MB free on the disk of "
                            f"{folder}, about {need_bytes / MB:.0f} MB needed; free some space or choose "
                            "another place.")


def os_error_sentence(err: OSError) -> str:
    """One sentence for an OSError that reached the CLI: which path, what happened, what to do."""
    where = err.filename or "a file"
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"The disk is full while writing {where}: free some space, then rerun the same command to resume."
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"Cannot write {where} ({err.strerror}): choose a writable place (for the cache: set STEERVIS_HOME)."
    return f"{where}: {err.strerror or err} ({type(err).__name__}); check the path, then rerun the same command."
