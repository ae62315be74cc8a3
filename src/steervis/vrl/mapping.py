"""VRL's mapping: every image × every criterion → one number, by the matcher's image–text similarity.

A question scores the cosine between the image and its phrase; a contrast scores its first phrase's cosine
minus its second's (how much more the image looks like one side than the other). Phrase embeddings are
computed in batches and kept per mapper (and on disk for long lists, by the matchers' text-embedding cache),
so an edited criteria file embeds only its new phrases.

The paper's other mapping, a VLM answering each criterion's question (:meth:`Criterion.question`), its
log-odds of "yes" as the number, is :class:`steervis.methods.vrl_vlm.VLMMapper` (the method floor joins VRL
and the VLM; the ``vrl`` method's ``mapping=vlm``).

>>> import numpy as np
>>> from steervis.vrl.criteria import Criterion
>>> class Axes:  # a matcher whose texts point along "red" or not
...     name, disk_cache = "axes", False
...     def encode_texts(self, texts):
...         return np.array([[1.0, 0.0] if "red" in t else [0.0, 1.0] for t in texts])
>>> mapper = CriterionMapper(Axes())
>>> mapper.scores(np.array([[1.0, 0.0]]), [Criterion("red skin"), Criterion("red", "contrast", "green")])
array([[1., 1.]], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from steervis.errors import SteervisError
from steervis.matchers.text_cache import cached_text_embeddings, normalise
from steervis.vrl.criteria import Criterion


class CriterionMapper:
    """Scores images on criteria with one matcher.

    Args:
        matcher: anything with ``encode_texts`` (and ``encode_images`` for :meth:`map_images`), unit-norm
            rows (:class:`~steervis.matchers.Matcher`).
        template: how a phrase is written for the matcher (``{}``: the phrase).
        batch_size: texts or images per encoder call.
    """

    def __init__(self, matcher: Any, template: str = "{}", batch_size: int = 256):
        if "{}" not in template:
            raise SteervisError(f"The criterion template {template!r} has no '{{}}' where the phrase goes.")
        self.matcher, self.template, self.batch_size = matcher, template, batch_size
        self._phrases: dict[str, np.ndarray] = {}

    def phrase_embeddings(self, phrases: Sequence[str]) -> np.ndarray:
        """Unit-norm embeddings of ``phrases`` [n, d], each computed once per mapper."""
        todo = list(dict.fromkeys(p for p in phrases if p not in self._phrases))
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            texts = [self.template.format(p) for p in chunk]
            found = normalise(cached_text_embeddings(self.matcher, texts))
            self._phrases.update(zip(chunk, found, strict=True))
        return np.stack([self._phrases[p] for p in phrases]) if phrases else np.zeros((0, 0), np.float32)

    def scores(self, image_embeddings: np.ndarray, criteria: Sequence[Criterion]) -> np.ndarray:
        """[images, criteria] scores from unit-norm image embeddings."""
        if not criteria:
            raise SteervisError("There are no criteria to score images on.")
        images = np.asarray(image_embeddings, dtype=np.float32)
        first = self.phrase_embeddings([c.text for c in criteria])
        out = images @ first.T
        contrasts = [i for i, c in enumerate(criteria) if c.versus]
        if contrasts:
            second = self.phrase_embeddings([criteria[i].versus for i in contrasts])
            out[:, contrasts] -= images @ second.T
        return out

    def map_images(self, images: Sequence[Any], criteria: Sequence[Criterion]) -> np.ndarray:
        """[images, criteria] scores of PIL images, encoded in batches."""
        if not len(images):
            return np.zeros((0, len(criteria)), np.float32)
        blocks = [np.asarray(self.matcher.encode_images(list(images[s : s + self.batch_size])))
                  for s in range(0, len(images), self.batch_size)]
        return self.scores(np.concatenate(blocks), criteria)
