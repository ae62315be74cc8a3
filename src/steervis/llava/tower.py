"""The vision towers of steervis' LLaVA, by name, each pooled to a few visual tokens; and their feature cache.

Three tower families are registered in :data:`TOWERS` (by :mod:`steervis.llava`, as lazy entries); a tower
name is a family, then ``:model`` when the family takes one (the family is the registry key, the model its
argument):

* ``efficientnet-lite0`` (embedded, the default): LLaVA reads CLIP's *penultimate* layer, whose features are
  more general and spatial than the last one's, shaped by the contrastive objective. The analogue here is the
  output of efficientnet-lite0's last MBConv block (``blocks``: 320 channels, 7×7 at 224 px), the layer before
  the 1×1 ``conv_head`` that widens it to 1280 channels for the ImageNet classifier (``layer="head"``).
* ``clip:<hub id or tiny-clip>``: a transformers CLIP vision tower, penultimate layer, CLS dropped, as LLaVA
  (:mod:`steervis.llava.clip_tower`).
* ``timm:<model name>``: the last feature map of any timm model (:mod:`steervis.llava.timm_tower`).

Every grid is average-pooled to ``grid × grid`` tokens (4×4 = 16 by default): few tokens for an LM that pays
~6 ms per token on two cores, while keeping the layout (left / right, top / bottom). Two options read more
pixels: ``size`` (a resizable tower, a CNN, reads the whole padded square at ``size`` px instead of its own
input size, e.g. 448) and ``anyres`` (LLaVA-NeXT's tiles plus a thumbnail, :mod:`steervis.llava.anyres`).
Features are cached per image sha256 in a :class:`~steervis.store.Store` (float16 rows of ``[tokens,
dim]``) under ``STEERVIS_HOME/vlm-features/<TowerSpec.id>``, so stage 1, stage 2 and evaluation compute each
image once.

>>> spec = TowerSpec("clip:tiny-clip", grid=2)
>>> spec.layer, spec.tokens, spec.id
('penultimate', 4, 'clip-tiny-clip-penultimate-g2-pad')
>>> TowerSpec().id
'efficientnet-lite0-blocks-g4-224pad'
>>> TowerSpec(grid=2, anyres=True).tokens, TowerSpec(size=448).id
(20, 'efficientnet-lite0-blocks-g4-224pad-s448')
>>> build_tower(spec).encode([image]).shape  # doctest: +SKIP
torch.Size([1, 4, 16])
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from steervis.errors import SteervisError
from steervis.registry import Registry

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import torch

LAYERS = {"blocks": 320, "head": 1280}  # channels of efficientnet-lite0's last block output and of conv_head
MAX_GRID = 4  # at most a 4×4 grid per map: a short prefix for a 135M LM that pays ~6 ms per token
# AnyRes: up to 4 tiles of a 4×4 grid plus a 4×4 thumbnail. Five maps, not one: the tiles are the point of it,
# and 80 tokens still cost the LM under half a second per image on two cores.
MAX_TOKENS = 80
CONTRACT = ("layers", "model_help", "preprocess", "dim", "encode")


class Tower(Protocol):
    """Images → ``[n, spec.tokens, dim]`` visual tokens (row-major over the pooled grid; AnyRes: see
    :mod:`steervis.llava.anyres`), frozen."""

    spec: TowerSpec

    def encode(self, images: Sequence[Any]) -> torch.Tensor: ...


def check_tower(name: str, cls: Any) -> None:
    """The registry's contract: layer names (the first is the default), whether a model follows ``name:``, a
    preprocessing tag for the cache id, ``dim(spec)`` without running an image, and ``encode``."""
    missing = [a for a in CONTRACT if not hasattr(cls, a)]
    if missing or not cls.layers:
        raise SteervisError(f"vision tower {name!r} ({cls.__name__}) lacks {', '.join(missing) or 'layers'}: "
                            f"every tower declares {', '.join(CONTRACT)}.")


TOWERS = Registry("vision tower", check=check_tower)


def tower_family(name: str) -> Any:
    """The registered class of a tower name (``efficientnet-lite0``, ``clip:<model>``, ``timm:<model>``)."""
    family, _, model = name.partition(":")
    cls = TOWERS.get(family)  # an unknown family: did-you-mean error
    if cls.model_help and not model:
        raise SteervisError(f"The {family} tower needs a model: {family}:<{cls.model_help}>.")
    if model and not cls.model_help:
        raise SteervisError(f"The {family} tower takes no model; write {family!r}, not {name!r}.")
    return cls


@dataclass(frozen=True)
class TowerSpec:
    """What the tower computes; its :attr:`id` names the feature cache, so different recipes never mix."""

    name: str = "efficientnet-lite0"
    layer: str = ""  # "": the tower's default (efficientnet-lite0: blocks, clip: penultimate, timm: last)
    grid: int = 4
    size: int = 0  # 0: the tower's own input size; else the side a resizable tower reads (no centre crop)
    anyres: bool = False  # LLaVA-NeXT AnyRes: a thumbnail, then the tiles' merged map (steervis.llava.anyres)

    def __post_init__(self) -> None:
        family = self.family
        if not self.layer:
            object.__setattr__(self, "layer", family.layers[0])
        if self.layer not in family.layers:
            raise SteervisError(f"The {self.name} tower has no layer {self.layer!r}: "
                                f"choose one of {', '.join(family.layers)}.")
        if not 1 <= self.grid <= MAX_GRID or self.tokens > MAX_TOKENS:
            raise SteervisError(f"grid={self.grid} gives {self.grid ** 2} visual tokens; at most "
                                f"{MAX_GRID ** 2}.")
        if self.size and not (getattr(family, "resizable", False) and 32 <= self.size <= 1024):
            raise SteervisError(f"size={self.size} needs a resizable tower (a CNN: efficientnet-lite0, "
                                f"timm) and a side of 32 to 1024 px; {self.name} reads its own size.")

    @property
    def family(self) -> Any:
        return tower_family(self.name)

    @property
    def model(self) -> str:
        """What follows ``family:`` (a hub id, tiny-clip, a timm model name), or ``""``."""
        return self.name.partition(":")[2]

    @property
    def tokens(self) -> int:
        """Visual tokens per image: ``grid²``; AnyRes: the thumbnail's and up to four tiles' (``5·grid²``)."""
        from steervis.llava.anyres import MAX_TILES

        return self.grid * self.grid * (1 + MAX_TILES if self.anyres else 1)

    @property
    def dim(self) -> int:
        """The channel width of each visual token (what the projector reads)."""
        return self.family.dim(self)

    @property
    def id(self) -> str:
        safe = self.name.replace(":", "-").replace("/", "--")  # hub ids never hold "--": no two names collide
        options = (f"-s{self.size}" if self.size else "") + ("-anyres" if self.anyres else "")
        return f"{safe}-{self.layer}-g{self.grid}-{self.family.preprocess}{options}"


def build_tower(spec: TowerSpec, device: str = "auto", dtype: str = "auto") -> Tower:
    """The tower a spec names, loaded (weights and all) on ``device`` in ``dtype``; AnyRes wraps it."""
    if spec.anyres:
        from steervis.llava.anyres import AnyResTower

        return AnyResTower.build(spec, device=device, dtype=dtype)
    return spec.family(spec, device=device, dtype=dtype)


def pool_grid(x: torch.Tensor, grid: int) -> torch.Tensor:
    """``[b, c, h, w]`` → ``[b, grid², c]``: average-pooled to ``grid × grid``, row-major."""
    from torch.nn.functional import adaptive_avg_pool2d

    return adaptive_avg_pool2d(x, grid).flatten(2).transpose(1, 2)


class EfficientNetTower:
    """Images → ``[n, grid², channels]`` visual tokens (row-major over the pooled grid), frozen, CPU."""

    layers = tuple(LAYERS)
    model_help = ""
    preprocess = "224pad"  # the classifier's recipe: pad to square (white), 224 px
    resizable = True  # a CNN reads any size (spec.size)

    def __init__(self, spec: TowerSpec | None = None, classifier: Any = None, device: str = "auto",
                 dtype: str = "auto", **kwargs: Any):
        self.spec = spec or TowerSpec(**kwargs)
        if classifier is None:
            from steervis import zoo

            classifier = zoo.load(self.spec.name, kind="image-classifier", device=device, dtype=dtype)
        self.classifier = classifier

    @staticmethod
    def dim(spec: TowerSpec) -> int:
        return LAYERS[spec.layer]

    def pixels(self, images: list[Any]) -> torch.Tensor:
        """The classifier's recipe (pad, 224 px, centre crop of 87.5 %); with ``size``: the whole padded
        square at ``size`` px (no crop, so tiles and a 448 px image keep every pixel)."""
        from steervis.zoo.bundles import imagenet_preprocess

        if not self.spec.size:
            return self.classifier.preprocess(images)
        return imagenet_preprocess(images, self.spec.size, crop_pct=1.0)

    def encode(self, images: Sequence[Any], batch_size: int = 32) -> torch.Tensor:
        """Visual tokens of PIL images (any mode; the preprocessing pads to square)."""
        import torch

        from steervis.device import beside

        if not images:
            return torch.zeros((0, self.spec.tokens, self.spec.dim))
        net = self.classifier.model
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                x = beside(self.pixels(list(images[start : start + batch_size])), net)
                x = net.blocks(net.act1(net.bn1(net.conv_stem(x))))
                if self.spec.layer == "head":
                    x = net.act2(net.bn2(net.conv_head(x)))
                out.append(pool_grid(x, self.spec.grid).float().cpu())  # cached on the host, in float32
        return torch.cat(out)


class FeatureCache:
    """Visual tokens per image sha256, computed once (float16 on disk: half the bytes, ample for a frozen
    tower)."""

    def __init__(self, tower: Tower, directory: str | Path | None = None):
        from steervis.paths import cache_dir
        from steervis.store import Store

        self.tower = tower
        config = {"features": "visual tokens", "tower": tower.spec.id}
        self.store = (Store(directory, identity=config) if directory else Store.for_artifact(
            cache_dir("vlm-features"), tower.spec.id, "vlm-features", config=config))

    def features(self, keys: Sequence[str], paths: Sequence[str | Path], batch_size: int = 64,
                 progress: bool = False, skip_bad: bool = False) -> list[Any]:
        """``[tokens, dim]`` float32 per image; ``keys`` are sha256s, ``paths`` where to read missing ones.

        A file that is not an image raises :class:`~steervis.data.images.BadImage`, or with ``skip_bad`` is
        logged with its reason and gets ``None`` (a training set keeps its other images)."""
        import numpy as np
        import torch
        from tqdm.auto import tqdm

        from steervis.data.images import BadImage, open_image

        where = dict(zip(keys, paths, strict=True))
        todo, bad = self.store.missing(list(keys)), set()
        for start in tqdm(range(0, len(todo), batch_size), desc="vision features", disable=not progress):
            chunk, images = [], []
            for key in todo[start : start + batch_size]:
                try:
                    images.append(open_image(where[key]))
                    chunk.append(key)
                except BadImage as error:
                    if not skip_bad:
                        raise
                    log.warning("skipping %s: %s", where[key], error.reason)
                    bad.add(key)
            if chunk:
                self.store.put_vectors(chunk, self.tower.encode(images).numpy().astype(np.float16))
        if todo:
            self.store.compact()
        good = [k for k in dict.fromkeys(keys) if k not in bad]
        found = dict(zip(good, torch.from_numpy(self.store.vectors(good).astype(np.float32)), strict=True))
        return [found.get(k) for k in keys]
