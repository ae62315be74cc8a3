"""Staged builds (minidomains, the pool): one builder at a time, work in a staging folder, swap it in whole.

A builder takes :func:`build_lock`, works in :func:`staging_dir` (files an interrupted run finished there are
reused when the recipe is the same; other recipes' leftovers are removed), removes what it does not list
(:func:`prune`), writes its manifest last and :func:`swap_in` stamps the folder and renames it into place.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp()) / "built"
>>> with build_lock(root):
...     staging = staging_dir(root, "abc")
...     _ = (staging / "keep.txt").write_text("x"); _ = (staging / "stale.txt").write_text("y")
...     prune(staging, {"keep.txt"})
...     swap_in(staging, root)
>>> sorted(p.name for p in root.iterdir())  # the stamp lets a later rebuild replace it
['.steervis.json', 'keep.txt']
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Exclusive, non-blocking: a second builder of ``root`` gets one sentence, not a corrupted folder. The
    lock file lives in the cache (:func:`steervis.disk.output_lock`), never beside a dataset the user
    placed."""
    from steervis.disk import output_lock

    root.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(root, flag="the dataset"):
        yield


def staging_dir(root: Path, recipe: str, manifest: str = "manifest.parquet") -> Path:
    """``<root>.partial-<recipe>``, kept from an interrupted run of the same recipe (its manifest removed)."""
    staging = root.with_name(f"{root.name}.partial-{recipe}")
    for stale in root.parent.glob(f"{root.name}.partial-*"):
        if stale != staging:
            shutil.rmtree(stale, ignore_errors=True)
    staging.mkdir(parents=True, exist_ok=True)
    (staging / manifest).unlink(missing_ok=True)
    return staging


def prune(staging: Path, wanted: set[str]) -> None:
    """Remove files and folders in ``staging`` that this build does not list (stale or dropped)."""
    for path in sorted(staging.rglob("*"), reverse=True):
        rel = path.relative_to(staging).as_posix()
        if path.is_file() and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def swap_in(staging: Path, root: Path) -> None:
    """Put the finished ``staging`` folder at ``root`` (the old build, if any, removed after), stamped as a
    steervis dataset so a later rebuild may replace it."""
    from steervis.atomic import replace_dir
    from steervis.outputs import write_stamp

    write_stamp(staging, "dataset")
    replace_dir(staging, root)
