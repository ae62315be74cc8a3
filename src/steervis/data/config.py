"""Typed configs of the ``steervis data`` actions (``--config``, ``--set``, ``--print-config``); the verbs'
flags are derived from these fields and their docstrings.

>>> from steervis.config import load_config
>>> load_config(ToyConfig, overrides=["per_class=8"]).per_class
8
"""

from __future__ import annotations

from dataclasses import dataclass, field

from steervis.errors import SteervisError


@dataclass
class BuildConfig:
    """``steervis data build``: which dataset (minidomains, pool, scenes, knowledge), where, and whether to
    start over.

    Attributes:
        name: dataset to build (see `steervis data build --list`).
        root: output folder (default: STEERVIS_HOME/data/<name>).
        force: rebuild even if a complete build exists.
        extra: minidomains: also build the mapping's extra_classes (more classes, most with at most one
            photo).
        max_items: pool: keep N pairs, a deterministic sample taking the sources in turn.
        exclude: pool: also keep out these evaluation folders' images and near-duplicates (repeatable).
        split: scenes: train, test-seen, test-unseen or test-styles.
        n: scenes: how many (the last tenth is the split's validation part).
        seed: scenes: seed of every scene's random stream; knowledge: seed of the options and the class split.
    """

    name: str = "minidomains"
    root: str = ""  # "" = the dataset's default folder
    force: bool = False
    extra: bool = False
    max_items: int | None = None  # None = every pair
    exclude: list[str] = field(default_factory=list)
    split: str = "train"
    n: int = 1000  # a quick look; 10k training scenes is the size the build time is measured at
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or self.n < 1:
            raise SteervisError(f"n must be a whole number of at least 1, not {self.n}.")
        if self.max_items is not None and (not isinstance(self.max_items, int) or self.max_items < 1):
            raise SteervisError("max_items must be a whole number of at least 1 (or left out for every "
                                f"pair), not {self.max_items}.")


@dataclass
class ToyConfig:
    """``steervis data toy``: the tiny generated shapes set (classes = shapes, domains = drawing styles).

    Attributes:
        root: output folder (required, here or in --config).
        domains: drawing styles, comma-separated.
        classes: shapes (circle, square, triangle, star, diamond, cross), comma-separated.
        per_class: images per domain and class.
        size: image side in pixels.
        seed: random seed.
    """

    root: str = ""
    domains: list[str] = field(default_factory=lambda: ["photo", "sketch"])
    classes: list[str] = field(default_factory=lambda: ["circle", "square", "triangle"])
    per_class: int = 4
    size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.per_class, int) and self.per_class < 1:
            raise SteervisError(f"per_class must be at least 1, not {self.per_class}.")
        if isinstance(self.size, int) and self.size < 16:  # below 16 px the shapes' outlines merge into blobs
            raise SteervisError(f"size must be at least 16 pixels, not {self.size}.")


@dataclass
class SetupConfig:
    """``steervis setup``: what to prepare.

    Attributes:
        skip_data: prepare models only, do not build minidomains.
    """

    skip_data: bool = False


@dataclass
class SummaryConfig:
    """``steervis data summary``: which folder, which part of it.

    Attributes:
        data: dataset folder <root>/<domain>/<class>/...
        domains: only these domains (default: all).
        classes: only these classes (default: all).
        follow_links: also read symlinks in data that lead outside it; links that stay inside it are always
            followed (a link out can pull held-out or foreign images into training).
    """

    data: str | None = None
    domains: list[str] | None = None
    classes: list[str] | None = None
    follow_links: bool = False
