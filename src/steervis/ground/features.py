"""Trunk grid features per image sha256, computed once (float16 ``[channels, cells, cells]`` rows in a
:class:`~steervis.store.Store` under ``STEERVIS_HOME/ground-features/<TrunkSpec.id>-v<GRID_VERSION>``).

The trunk is frozen, so a training run reads every scene's grid from the cache after the first epoch of the
first run; new data means more scenes, never augmented copies of cached ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from steervis.ground.parts import TRUNKS, TrunkSpec, trunk_features

# Bump when the trunk's features change (preprocessing, layers): a new folder, never a stale grid. Kept here,
# not in steervis.identity's BEHAVIOUR table, whose every new entry re-keys all evaluation run parts.
GRID_VERSION = 1


class GridCache:
    """``[channels, cells, cells]`` float32 trunk features per image sha256; missing ones computed."""

    def __init__(self, spec: TrunkSpec, directory: str | Path | None = None, device: str = "auto",
                 dtype: str = "auto"):
        from steervis.paths import cache_dir
        from steervis.store import Store

        self.spec, self.device, self.dtype = spec, device, dtype
        self._trunk: Any = None
        config = {"features": "trunk grid", "trunk": spec.id, "version": GRID_VERSION}
        folder = directory or cache_dir("ground-features") / f"{spec.id}-v{GRID_VERSION}"
        self.store = Store(folder, identity=config)

    @property
    def trunk(self) -> Any:
        if self._trunk is None:  # built only when an image is missing: a warm cache never loads the CNN
            self._trunk = TRUNKS.get(self.spec.name)(self.spec, device=self.device, dtype=self.dtype)
        return self._trunk

    def features(self, keys: Sequence[str], paths: Sequence[str | Path], batch_size: int = 32,
                 progress: bool = False) -> torch.Tensor:
        """``[n, channels, cells, cells]`` for ``keys`` (sha256s), reading missing images from ``paths``."""
        from tqdm.auto import tqdm

        from steervis.data.images import open_image

        where = dict(zip(keys, paths, strict=True))
        todo = self.store.missing(list(dict.fromkeys(keys)))
        for start in tqdm(range(0, len(todo), batch_size), desc="trunk features", disable=not progress):
            chunk = todo[start : start + batch_size]
            grid, _ = trunk_features(self.trunk, [open_image(where[k]) for k in chunk], self.spec.size)
            self.store.put_vectors(chunk, grid.numpy().astype(np.float16))
        if todo:
            self.store.compact()
        if not keys:
            return torch.zeros(0)
        return torch.from_numpy(self.store.vectors(list(keys)).astype(np.float32))


def image_keys(paths: Sequence[str | Path]) -> list[str]:
    """Each file's sha256: the cache key (a changed file is a new key)."""
    from steervis.data.images import sha256_file

    return [sha256_file(p) for p in paths]
