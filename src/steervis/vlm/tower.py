"""The vision tower of steervis' LLaVA: efficientnet-lite0's last block grid, pooled to a few visual tokens.

LLaVA reads CLIP's *penultimate* layer: the last one is shaped by the contrastive objective, the one before it
keeps more general, spatial detail. The analogue here is the output of efficientnet-lite0's last MBConv
block (``blocks``: 320 channels, 7×7 at 224 px), the layer before the 1×1 ``conv_head`` that widens it to
1280 channels for the ImageNet classifier. ``layer="head"`` reads that 1280-channel grid instead. The 7×7 grid
is average-pooled to ``grid × grid`` tokens (4×4 = 16 by default): four times fewer tokens than 49 for an LM
that pays ~6 ms per token on two cores, while keeping the layout (left / right, top / bottom).

Features are cached per image sha256 in an append-only :class:`~steervis.partstore.PartStore` under
``STEERVIS_HOME/vlm-features/<tower id>``, so stage 1, stage 2 and evaluation compute each image once.

>>> from steervis.vlm.tower import EfficientNetTower
>>> tower = EfficientNetTower(grid=4)  # doctest: +SKIP
>>> tower.encode([image]).shape  # doctest: +SKIP
torch.Size([1, 16, 320])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from steervis.errors import SteervisError

LAYERS = {"blocks": 320, "head": 1280}  # channels of efficientnet-lite0's last block output and of conv_head
MAX_TOKENS = 16  # the bound on visual tokens per image (a 4×4 grid)


@dataclass(frozen=True)
class TowerSpec:
    """What the tower computes; its :attr:`id` names the feature cache, so different recipes never mix."""

    name: str = "efficientnet-lite0"
    layer: str = "blocks"
    grid: int = 4

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise SteervisError(f"Unknown tower layer {self.layer!r}: choose one of {', '.join(LAYERS)}.")
        if not 1 <= self.grid * self.grid <= MAX_TOKENS:
            raise SteervisError(f"grid={self.grid} gives {self.grid ** 2} visual tokens; at most {MAX_TOKENS}.")

    @property
    def tokens(self) -> int:
        return self.grid * self.grid

    @property
    def dim(self) -> int:
        return LAYERS[self.layer]

    @property
    def id(self) -> str:
        return f"{self.name}-{self.layer}-g{self.grid}-224pad"


class EfficientNetTower:
    """Images → ``[n, grid², channels]`` visual tokens (row-major over the pooled grid), frozen, CPU."""

    def __init__(self, spec: TowerSpec | None = None, classifier: Any = None, **kwargs: Any):
        self.spec = spec or TowerSpec(**kwargs)
        if classifier is None:
            from steervis import zoo

            classifier = zoo.load(self.spec.name, kind="image-classifier")
        self.classifier = classifier

    @torch.inference_mode()
    def encode(self, images: Sequence[Any], batch_size: int = 32) -> torch.Tensor:
        """Visual tokens of PIL images (any mode; the classifier's preprocessing pads to square)."""
        if not images:
            return torch.zeros((0, self.spec.tokens, self.spec.dim))
        net = self.classifier.model
        out = []
        for start in range(0, len(images), batch_size):
            x = self.classifier.preprocess(list(images[start : start + batch_size]))
            x = net.blocks(net.act1(net.bn1(net.conv_stem(x))))
            if self.spec.layer == "head":
                x = net.act2(net.bn2(net.conv_head(x)))
            x = torch.nn.functional.adaptive_avg_pool2d(x, self.spec.grid)
            out.append(x.flatten(2).transpose(1, 2))  # [b, c, g, g] → [b, g², c]
        return torch.cat(out)


class FeatureCache:
    """Visual tokens per image sha256, computed once (float16 on disk: half the bytes, ample for a frozen tower)."""

    def __init__(self, tower: EfficientNetTower, directory: str | Path | None = None):
        from steervis.partstore import PartStore
        from steervis.paths import cache_dir

        self.tower = tower
        self.store = PartStore(directory or cache_dir("vlm-features", tower.spec.id))

    def features(self, keys: Sequence[str], paths: Sequence[str | Path], batch_size: int = 64,
                 progress: bool = False) -> list[torch.Tensor]:
        """``[tokens, dim]`` float32 per image; ``keys`` are sha256s, ``paths`` where to read missing ones."""
        from tqdm.auto import tqdm

        from steervis.data.images import open_image

        where = dict(zip(keys, paths, strict=True))
        todo = self.store.missing(list(keys))
        for start in tqdm(range(0, len(todo), batch_size), desc="vision features", disable=not progress):
            chunk = todo[start : start + batch_size]
            feats = self.tower.encode([open_image(where[k]) for k in chunk])
            self.store.add(chunk, feats.numpy().astype(np.float16))
        return [torch.from_numpy(self.store.vectors[k].astype(np.float32)) for k in keys]
