"""Text embeddings of long lists (vocabularies, class names) kept on disk, once per machine and matcher."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from steervis.atomic import DAMAGED, atomic_path, set_aside
from steervis.paths import cache_dir

# Vocabularies at least this long are embedded once per machine and kept on disk (tags: ~40 s on 2 cores).
DISK_CACHE_MIN_TEXTS = 256


def normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (a zero row stays zero), as float32."""
    x = np.asarray(x, dtype=np.float32)
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12, None)


def cached_text_embeddings(matcher: Any, texts: list[str]) -> np.ndarray:
    """``matcher.encode_texts(texts)``, kept on disk for long lists (vocabularies, class names).

    The file name hashes the matcher name and the texts, so an edited vocabulary is re-embedded. Matchers
    that declare ``disk_cache = False`` (random test models) are always recomputed.
    """
    if len(texts) < DISK_CACHE_MIN_TEXTS or not getattr(matcher, "disk_cache", True):
        return matcher.encode_texts(texts)
    name = getattr(matcher, "text_name", matcher.name)  # one text tower, one cache, whatever the image side
    digest = hashlib.sha256("\n".join([name, *texts]).encode()).hexdigest()[:20]
    path = cache_dir("describe", "text-embeddings") / f"{name.replace('/', '--')}-{digest}.npy"
    if path.exists():
        try:
            emb = np.load(path, allow_pickle=False)
            if emb.shape[0] != len(texts):
                raise ValueError(f"{emb.shape[0]} rows for {len(texts)} texts")
            return emb
        except DAMAGED as err:
            set_aside(path, err, "text-embedding cache")  # recomputed below
    emb = np.asarray(matcher.encode_texts(texts), dtype=np.float32)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, emb)  # atomic: a killed run never leaves half an array
    return emb
