"""Per-image vectors kept on disk by content: sha256 → vector, one ``.npz`` per feature name.

Features of images belong with the images (this floor), so any method, describer or tool can share them.

>>> import tempfile, pathlib, numpy as np
>>> store = FeatureStore(pathlib.Path(tempfile.mkdtemp()) / "f.npz")
>>> store.missing(["a", "b"])
['a', 'b']
>>> store.add(["a"], np.ones((1, 2))); store.flush()
>>> FeatureStore(store.path).get(["a"]).tolist()
[[1.0, 1.0]]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class FeatureStore:
    """sha256 → vector for one feature name, persisted as one .npz rewritten atomically after each batch."""

    def __init__(self, path: Path):
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["values"], strict=True))

    def missing(self, keys: list[str]) -> list[str]:
        return [k for k in dict.fromkeys(keys) if k not in self.vectors]

    def add(self, keys: list[str], values: np.ndarray) -> None:
        self.vectors.update(zip(keys, values, strict=True))

    def flush(self) -> None:
        keys = sorted(self.vectors)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys), values=np.stack([self.vectors[k] for k in keys]))
        tmp.replace(self.path)  # atomic: a killed run keeps the previous complete file

    def get(self, keys: list[str]) -> np.ndarray:
        return np.stack([self.vectors[k] for k in keys])
