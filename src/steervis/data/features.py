"""Per-image vectors kept on disk by content: sha256 → vector, one append-only store per feature name.

Features of images belong with the images (this floor), so any method, describer or tool can share them.
The storage is :class:`~steervis.partstore.PartStore` (each batch a new part file): the same mechanism the
knowledge pool's features use, so a store is never rewritten whole and two runs adding at once lose nothing.

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

from steervis.partstore import PartStore


class FeatureStore(PartStore):
    """sha256 → vector for one feature name, in the part folder named after ``path`` (its suffix dropped)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        super().__init__(self.path.with_suffix(""))

    def flush(self) -> None:
        """Nothing left to write: every :meth:`add` is already a complete part on disk."""
