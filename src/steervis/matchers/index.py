"""A FAISS index over unit-norm embeddings (pool images or texts): HNSW as REACT uses, exact search as the
check.

Inner product on L2-normalised rows is cosine similarity. HNSW answers a query in logarithmic time; at the
pool's size (tens of thousands of rows) exact search is still cheap, so it stays available to measure
HNSW's recall@k against (:func:`recall_at_k`).

>>> import numpy as np
>>> rows = np.eye(4, dtype=np.float32)
>>> index = VectorIndex.build(rows, ids=["a", "b", "c", "d"], kind="exact")
>>> index.search(rows[[2]], k=1)[1]
[['c']]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from steervis.atomic import atomic_dir
from steervis.errors import SteervisError

HNSW_M = 32  # neighbours per node: FAISS' usual default, recall ~1 at this scale with the ef below
HNSW_EF_CONSTRUCTION = 200  # build-time beam: a better graph for a one-off cost
HNSW_EF_SEARCH = 128  # query-time beam: recall@50 needs a beam wider than 50


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    return x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)


@dataclass
class VectorIndex:
    """Rows of unit vectors with string ids; ``kind`` is ``hnsw`` or ``exact``."""

    index: object
    ids: list[str]
    kind: str

    @classmethod
    def build(cls, vectors: np.ndarray, ids: Sequence[str], kind: str = "hnsw") -> VectorIndex:
        import faiss

        vectors = _unit(vectors)
        if len(vectors) != len(ids):
            raise SteervisError(f"{len(vectors)} vectors but {len(ids)} ids.")
        if len(vectors) == 0:
            raise SteervisError("Nothing to index: the pool is empty.")
        dim = vectors.shape[1]
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        elif kind == "exact":
            index = faiss.IndexFlatIP(dim)
        else:
            raise SteervisError(f"Unknown index kind {kind!r}: use 'hnsw' or 'exact'.")
        index.add(vectors)
        return cls(index, list(ids), kind)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[list[str]]]:
        """Top-``k`` cosine scores ``[q, k]`` and ids per query (fewer if the index is smaller)."""
        k = min(k, len(self.ids))
        scores, rows = self.index.search(_unit(queries), k)
        return scores, [[self.ids[r] for r in row if r >= 0] for row in rows]

    def save(self, directory: str | Path) -> Path:
        import faiss

        with atomic_dir(directory) as tmp:
            faiss.write_index(self.index, str(tmp / "index.faiss"))
            (tmp / "meta.json").write_text(json.dumps({"kind": self.kind, "ids": self.ids}))
        return Path(directory)

    @classmethod
    def load(cls, directory: str | Path) -> VectorIndex:
        import faiss

        directory = Path(directory)
        try:
            meta = json.loads((directory / "meta.json").read_text())
            index = faiss.read_index(str(directory / "index.faiss"))
        except (OSError, ValueError, RuntimeError) as err:
            raise SteervisError(f"The index in {directory} cannot be read ({err}); rebuild it.") from None
        return cls(index, meta["ids"], meta["kind"])


def recall_at_k(approx: VectorIndex, exact: VectorIndex, queries: np.ndarray, k: int) -> float:
    """Mean fraction of the exact top-``k`` that the approximate index also returns."""
    _, a = approx.search(queries, k)
    _, e = exact.search(queries, k)
    return float(np.mean([len(set(x) & set(y)) / max(1, len(y)) for x, y in zip(a, e, strict=True)]))
