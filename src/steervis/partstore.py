"""An append-only key → vector store: each batch is a new part file, never a rewrite of the whole store.

A store that grows to a pool of tens of thousands of images must not be rewritten per batch, and two
processes adding at once must not lose each other's rows. Each :meth:`PartStore.add` writes one ``.npz`` part
atomically under a unique name; reading merges every part. A damaged part (a killed disk, a truncated copy) is
set aside with a warning and its rows are simply computed again.

>>> import tempfile, numpy as np
>>> store = PartStore(tempfile.mkdtemp())
>>> store.add(["a", "b"], np.eye(2, dtype=np.float32))
>>> store.missing(["a", "c"]), store.get(["b"]).tolist()
(['c'], [[0.0, 1.0]])
"""

from __future__ import annotations

import os
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from steervis.atomic import DAMAGED, atomic_path, set_aside


class PartStore:
    """Vectors keyed by string (an image's sha256, a text's hash) in ``directory/part-*.npz``."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.vectors: dict[str, np.ndarray] = {}
        self._seen: set[str] = set()
        self.refresh()

    def refresh(self) -> None:
        """Read parts written since the last look (by this process or another)."""
        for part in sorted(self.directory.glob("part-*.npz")):
            if part.name in self._seen:
                continue
            try:
                with np.load(part, allow_pickle=False) as data:
                    self.vectors.update(zip(data["keys"].tolist(), data["values"], strict=True))
            except (*DAMAGED, zipfile.BadZipFile) as err:
                set_aside(part, err, "feature part")
                continue
            self._seen.add(part.name)

    def missing(self, keys: Sequence[str]) -> list[str]:
        return [k for k in dict.fromkeys(keys) if k not in self.vectors]

    def add(self, keys: Sequence[str], values: np.ndarray) -> None:
        """Append one part (atomically, under a name no other writer uses)."""
        if len(keys) == 0:
            return
        keys = list(keys)
        values = np.asarray(values)
        name = f"part-{len(self._seen):06d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.npz"
        with atomic_path(self.directory / name) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, keys=np.array(keys), values=values)
        self._seen.add(name)
        self.vectors.update(zip(keys, values, strict=True))

    def get(self, keys: Sequence[str]) -> np.ndarray:
        return np.stack([self.vectors[k] for k in keys])

    def __len__(self) -> int:
        return len(self.vectors)
