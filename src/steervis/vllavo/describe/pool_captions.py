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
>>> caption_of("a drawing of a duck. a yellow duck", keep_style=False)
'a duck'
>>> import numpy as np
>>> from steervis.matchers.index import VectorIndex
>>> index = VectorIndex.build(np.eye(3, dtype=np.float32), ["a cat", "a dog", "a cat"], kind="exact")
>>> nearest_texts(index, np.array([[0.9, 0.1, 0.0]], np.float32), k=2)
[['a cat', 'a dog']]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from steervis.data.pool.text import parse_pair_text, strip_style_words
from steervis.matchers.index import VectorIndex

# Neighbours searched per caption kept: near-identical pool texts (one emoji in several vendors' sets) are
# dropped, so more rows are read than captions returned.
SEARCH_FACTOR = 4


def caption_of(text: str, keep_style: bool = True) -> str:
    """A pool text's first sentence: its caption, without the description and keyword list that follow.

    Keyword lists run to 15 words per item; five neighbours' lists would triple a description's tokens (and
    the decider's fit time) for words the captions mostly already say. ``keep_style=False`` also drops the
    source's style words: "an emoji of a goat" → "a goat".
    """
    head = parse_pair_text(text).head
    return head if keep_style else strip_style_words(head)


def nearest_texts(index: VectorIndex, queries: np.ndarray, k: int) -> list[list[str]]:
    """Per query row, the ``k`` distinct texts (the ``index``'s ids) of its most similar rows, nearest
    first."""
    if k <= 0:
        return [[] for _ in range(len(queries))]
    _, texts = index.search(queries, k * SEARCH_FACTOR)
    return [list(dict.fromkeys(row))[:k] for row in texts]


class PoolNeighbours:
    """The pool's image embeddings by one matcher (cached per image content), indexed by their captions."""

    def __init__(self, matcher: Any, progress: bool = True, keep_style: bool = True):
        from steervis.data.pool import Pool
        from steervis.matchers.features import image_embeddings

        pool = Pool.load()
        self.hash = pool.hash
        emb = image_embeddings(matcher, pool.frame["path"].tolist(), pool.frame["sha256"].tolist(), progress)
        # Exact search: at the pool's size (~19k × 384) a flat inner-product scan is milliseconds per batch.
        captions = [caption_of(t, keep_style) for t in pool.frame["text"].astype(str)]
        self.index = VectorIndex.build(emb, captions, kind="exact")

    def captions(self, image_embeddings: np.ndarray, k: int) -> list[list[str]]:
        return nearest_texts(self.index, image_embeddings, k)

