"""What steervis may write over, and how a set of outputs appears: checked, locked, stamped, never mixed.

Three rules keep a user's files safe:

* **Ownership.** A folder is replaced only when steervis wrote it: it holds a completion stamp
  (:data:`STAMP`), or a model card (folders written before stamps existed), or it lies inside the cache
  (``STEERVIS_HOME``), which steervis owns. Anything else that is not empty is refused in one sentence.
* **One writer.** :func:`steervis.disk.output_lock` holds a lock beside an output while a verb computes and
  publishes it; a second process writing the same output is refused in one sentence instead of silently losing
  one result.
* **Complete or marked.** A folder's stamp is written last, holding the config hash; :func:`read_stamp` tells
  a finished output from one a kill interrupted.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
>>> out.mkdir(); _ = (out / "thesis.txt").write_text("years of work")
>>> check_out_dir(out)
Traceback (most recent call last):
steervis.errors.SteervisError: --out ... holds files steervis did not write (thesis.txt): give a new or ...
>>> _ = (out / "thesis.txt").unlink(); _ = write_stamp(out, "adapter", "abc")
>>> check_out_dir(out)
Traceback (most recent call last):
steervis.errors.SteervisError: --out ... holds a previous steervis adapter: add --overwrite to replace ...
>>> check_out_dir(out, overwrite=True) == out.resolve()
True
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from steervis.errors import SteervisError

STAMP = ".steervis.json"  # hidden: a user listing the folder sees their results, not our bookkeeping
log = logging.getLogger(__name__)


def write_stamp(directory: str | Path, kind: str, config_hash: str = "", state: str = "finished",
                files: Iterable[str] | None = None) -> Path:
    """Mark ``directory`` as a steervis ``kind`` output; ``finished`` is written after every other file.

    ``files`` are the top-level names the output consists of (default: what the folder holds now): anything
    else found there later was put there by someone else, and a rerun refuses to replace it.
    ``state="started"`` claims a folder that a resumable run fills over time (its parts), before it finishes.
    """
    import steervis

    names = sorted(files) if files is not None else sorted(p.name for p in Path(directory).iterdir()
                                                           if p.name != STAMP)
    stamp = {"kind": kind, "state": state, "config_hash": config_hash, "steervis": steervis.__version__,
             "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": names}
    path = Path(directory) / STAMP
    tmp = path.with_name(f"{STAMP}.{os.getpid()}.tmp")  # not steervis.atomic: it imports this module
    tmp.write_text(json.dumps(stamp, indent=2))
    os.replace(tmp, path)
    return path


def any_stamp(directory: str | Path) -> dict[str, Any] | None:
    """The stamp of ``directory`` in any state, or ``None``: absent, damaged, or a file that merely has the
    name."""
    try:
        stamp = json.loads((Path(directory) / STAMP).read_text())
    except (OSError, ValueError):
        return None
    valid = (isinstance(stamp, dict) and isinstance(stamp.get("kind"), str)
             and isinstance(stamp.get("steervis"), str) and stamp.get("state") in ("started", "finished"))
    return stamp if valid else None


def read_stamp(directory: str | Path) -> dict[str, Any] | None:
    """The stamp of a finished output, or ``None`` (never finished, interrupted, or the stamp is damaged)."""
    stamp = any_stamp(directory)
    return stamp if stamp is not None and stamp["state"] == "finished" else None


def in_cache(path: str | Path) -> bool:
    """Whether ``path`` lies inside ``STEERVIS_HOME``, which steervis owns whole."""
    from steervis.paths import steervis_home

    return Path(path).resolve().is_relative_to(steervis_home().resolve())


# an evaluate run part (or one set aside)
PART_NAME = re.compile(r".+-[0-9a-f]{16}\.(parquet|json)(\.corrupt)?")


def legacy_output(directory: Path) -> bool:
    """A folder steervis wrote before stamps existed: a model card of its own, or a run's config and parts."""
    from steervis.card import is_steervis_card

    if is_steervis_card(directory):
        return True
    parts = directory / "parts"
    return (directory / "config.yaml").is_file() and parts.is_dir() and \
        all(PART_NAME.fullmatch(p.name) for p in parts.iterdir())


def written_by_steervis(directory: str | Path) -> bool:
    """A valid stamp, or a folder written before stamps existed (see :func:`legacy_output`)."""
    directory = Path(directory)
    return any_stamp(directory) is not None or legacy_output(directory)


def foreign_entries(directory: str | Path) -> list[str]:
    """Top-level names in a steervis output that it did not write (all of them, if it is not one)."""
    directory = Path(directory)
    names = sorted(p.name for p in directory.iterdir())
    stamp = any_stamp(directory)
    if stamp is not None and isinstance(stamp.get("files"), list):
        return [n for n in names if n not in stamp["files"] and n != STAMP]
    return [] if stamp is not None or legacy_output(directory) else names  # before file lists: cannot tell


def require_finished(directory: str | Path, what: str = "run folder") -> dict[str, Any]:
    """The stamp of a finished output (``{}`` for one written before stamps existed); one sentence when the
    output was started but never finished (a kill, or a run still going)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SteervisError(f"{directory} is not a folder: give a finished {what} written by steervis.")
    stamp = read_stamp(directory)
    if stamp is None and (directory / STAMP).exists():
        raise SteervisError(f"{what.capitalize()} {directory} is incomplete (started, never finished: the "
                            "run was interrupted or is still going): rerun the same command to finish it.")
    return stamp or {}


def may_replace(directory: str | Path) -> bool:
    """Whether steervis may remove the folder ``directory``: absent, empty, inside the cache (below its root),
    or
    a steervis output holding nothing it did not write."""
    from steervis.paths import home_path

    directory = Path(directory)
    if not directory.exists():
        return True
    if directory.is_dir() and not any(directory.iterdir()):
        return True
    inside = in_cache(directory) and directory.resolve() != home_path().resolve()
    return inside or (written_by_steervis(directory) and not foreign_entries(directory))


def foreign_files(directory: Path, shown: int = 3) -> str:
    names = foreign_entries(directory) or sorted(p.name for p in directory.iterdir())
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def restore_interrupted_swap(path: str | Path) -> None:
    """A kill between the two renames of a folder swap leaves ``path`` missing and the earlier output beside
    it
    as ``.<name>.old-*``: put the newest one back, so the earlier result is neither lost nor recomputed."""
    path = Path(path)
    if path.exists():
        return
    olds = sorted(path.parent.glob(f".{path.name}.old-*"), key=lambda p: p.stat().st_mtime) \
        if path.parent.is_dir() else []
    if olds:
        os.replace(olds[-1], path)
        log.warning("%s was being replaced when its writer was killed: the earlier output is back in place",
                    path)


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
    restore_interrupted_swap(out)
    if not out.exists() or not any(out.iterdir()):
        return out
    check_owned(out, path, flag, kind)
    if not overwrite:
        what = kind or (any_stamp(out) or {}).get("kind") or "output"
        raise SteervisError(f"{flag} {path} holds a previous steervis {what}: add --overwrite to replace it, "
                            "or give a new folder.")
    return out


def check_owned(out: Path, path: str | Path, flag: str, kind: str | None) -> None:
    """Refuse a non-empty folder steervis may not replace: not its own, holding files it did not write beside
    its
    output, or an output of another kind (an adapter folder is no place for a dataset)."""
    if not written_by_steervis(out) and in_cache(out):
        raise SteervisError(f"{flag} {path} is a folder of steervis' cache holding other things "
                            f"({foreign_files(out)}): give a new or empty folder.")
    if not written_by_steervis(out):
        raise SteervisError(f"{flag} {path} holds files steervis did not write ({foreign_files(out)}): "
                            "give a new or empty folder.")
    added = foreign_entries(out)
    if added:
        raise SteervisError(f"{flag} {path} holds files steervis did not write beside its earlier output "
                            f"({foreign_files(out)}): move them out first, or give a new folder.")
    found = (any_stamp(out) or {}).get("kind")
    if kind and found and found != kind:
        raise SteervisError(f"{flag} {path} holds a steervis {found}, not a {kind}: give another folder.")


def check_apart(path: str | Path, inputs: Iterable[str | Path], flag: str = "--out") -> None:
    """Refuse an output folder that is an input folder, lies inside one, or holds one: writing or replacing it
    would change or destroy what the verb reads."""
    out = Path(path).expanduser().resolve()
    for given in inputs:
        src = Path(given).expanduser().resolve()
        if out == src or out.is_relative_to(src) or src.is_relative_to(out):
            where = "is" if out == src else "lies inside" if out.is_relative_to(src) else "holds"
            raise SteervisError(f"{flag} {path} {where} the input folder {given}: writing it would destroy "
                                "the input; give an output folder outside it.")
