"""Retrieval captions: an image described by the texts of its nearest knowledge-pool images.

Offline there is no captioner that names what it sees (the LLaVA trained here names the class in 0 of 80
minidomains captions). The pool holds ~19k human-written image-text pairs, so the nearest pool images in
the matcher's image space lend their texts as captions ("a drawing of a duck"): the
retrieval-augmented captioning of kNN captioners (SmallCap, "Retrieval-augmented image captioning") with the
pool REACT customizes on. The pool never holds an evaluation image or a near-duplicate of one (its build
excludes them by perceptual hash), so an evaluation image never lends itself its own text. (A pool image
described this way would: its nearest neighbour is itself.)

>>> caption_of("a drawing of a duck. a yellow duck. keywords: bird, animal")
'a drawing of a duck'
>>> import numpy as np
>>> pool = np.eye(3, dtype=np.float32)
>>> nearest_texts(np.array([[0.9, 0.1, 0.0]], np.float32), pool, ["a cat", "a dog", "a cat"], k=2)
[['a cat', 'a dog']]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# Neighbours searched per caption kept: near-identical pool texts (one emoji in several vendors' sets) are
# dropped, so more rows are read than captions returned.
SEARCH_FACTOR = 4


def caption_of(text: str) -> str:
    """A pool text's first sentence: its caption, without the description and keyword list that follow.

    Keyword lists run to 15 words per item; five neighbours' lists would triple a description's tokens (and
    the decider's fit time) for words the captions mostly already say.
    """
    return text.split(". ", 1)[0].strip().rstrip(".")


def nearest_texts(queries: np.ndarray, pool: np.ndarray, texts: Sequence[str], k: int) -> list[list[str]]:
    """Per query row, the ``k`` distinct texts of its most similar ``pool`` rows (cosine: rows are unit-norm).

    Exact search: at the pool's size (~19k × 384) one matrix product per batch is milliseconds, and exact.
    """
    if k <= 0:
        return [[] for _ in range(len(queries))]
    scores = queries @ pool.T
    width = min(k * SEARCH_FACTOR, scores.shape[1])
    top = np.argpartition(-scores, width - 1, axis=1)[:, :width]
    out = []
    for row, cand in zip(scores, top, strict=True):
        cand = cand[np.argsort(-row[cand], kind="stable")]
        out.append(list(dict.fromkeys(texts[j] for j in cand))[:k])
    return out


class PoolNeighbours:
    """The pool's image embeddings by one matcher (cached per image content) and their texts."""

    def __init__(self, matcher: Any, progress: bool = True):
        from steervis.data.pool import Pool
        from steervis.describe.features import image_embeddings

        pool = Pool.load()
        self.hash = pool.hash
        self.texts = [caption_of(t) for t in pool.frame["text"].astype(str)]
        emb = image_embeddings(matcher, pool.frame["path"].tolist(), pool.frame["sha256"].tolist(), progress)
        self.embeddings = emb / np.clip(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12, None)

    def captions(self, image_embeddings: np.ndarray, k: int) -> list[list[str]]:
        return nearest_texts(np.asarray(image_embeddings, np.float32), self.embeddings, self.texts, k)

