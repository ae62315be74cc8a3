"""Typed configs of the ``steervis data`` actions (``--config``, ``--set``, ``--print-config``).

>>> from steervis.config import load_config
>>> load_config(ToyConfig, overrides=["per_class=8"]).per_class
8
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BuildConfig:
    """``steervis data build``: which dataset (minidomains or pool), where, and whether to start over."""

    name: str = "minidomains"
    root: str = ""  # "" = STEERVIS_HOME/data/<name>
    force: bool = False
    extra: bool = False  # also the mapping's extra_classes (more classes, most with at most one photo)
    max_items: int | None = None  # pool only: None = every pair; N = a deterministic source-balanced sample
    exclude: list[str] = field(default_factory=list)  # pool only: more evaluation folders to keep out


@dataclass
class ToyConfig:
    """``steervis data toy``: the tiny generated shapes set (classes = shapes, domains = drawing styles)."""

    root: str = ""
    domains: list[str] = field(default_factory=lambda: ["photo", "sketch"])
    classes: list[str] = field(default_factory=lambda: ["circle", "square", "triangle"])
    per_class: int = 4
    size: int = 64
    seed: int = 0
