"""Text embeddings of long lists (vocabularies, class names) kept on disk, once per machine and text tower.

Each text is a row of a :class:`~steervis.store.Store` under ``describe/text-embeddings/<text tower>``, keyed
by the text's hash: an edited vocabulary embeds only its new texts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from steervis.matchers.features import in_matcher_precision, text_key
from steervis.paths import cache_dir
from steervis.store import Store

# Vocabularies at least this long are embedded once per machine and kept on disk (tags: ~40 s on 2 cores).
DISK_CACHE_MIN_TEXTS = 256


def normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (a zero row stays zero), as float32."""
    x = np.asarray(x, dtype=np.float32)
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12, None)


def cached_text_embeddings(matcher: Any, texts: list[str]) -> np.ndarray:
    """``matcher.encode_texts(texts)``, kept on disk for long lists (vocabularies, class names).

    Matchers that declare ``disk_cache = False`` (random test models) are always recomputed.
    """
    if len(texts) < DISK_CACHE_MIN_TEXTS or not getattr(matcher, "disk_cache", True):
        return matcher.encode_texts(texts)
    name = getattr(matcher, "text_name", matcher.name)  # one text tower, one cache, whatever the image side
    store_name, config = in_matcher_precision(name, {"embeddings": "texts", "text tower": name}, matcher)
    store = Store.for_artifact(cache_dir("describe", "text-embeddings"), store_name, "text-embeddings",
                               config=config)
    by_key = {text_key(t): t for t in texts}
    todo = store.missing(by_key)
    if todo:
        store.put_vectors(todo, matcher.encode_texts([by_key[k] for k in todo]))
        store.compact()
    return store.vectors([text_key(t) for t in texts])
