"""Zero-shot matcher (ZS-CLIP): class-name prompts averaged over a template ensemble, no training.

>>> from steervis.methods.context import MethodContext
>>> clf = ZeroShot(MethodContext(), matcher="conse").fit(train=None, classes=["dog", "cat"])  # doctest: +SKIP
>>> clf.predict_proba(frame).shape  # doctest: +SKIP
(n, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from steervis.methods.base import Method, check_classes
from steervis.numeric import softmax

# Styles that appear across the benchmark's domains; averaging over them is CLIP's prompt-ensembling recipe.
TEMPLATES = (
    "a photo of a {}.",
    "a drawing of a {}.",
    "a sketch of a {}.",
    "a cartoon {}.",
    "a clipart of a {}.",
    "an emoji of a {}.",
    "a painting of a {}.",
    "a black and white drawing of a {}.",
)


def class_embeddings(matcher, classes: list[str], templates: tuple[str, ...]) -> np.ndarray:
    """Mean of each class's prompt embeddings, renormalised: [k, d]."""
    prompts = [t.format(c) for c in classes for t in templates]
    emb = np.asarray(matcher.encode_texts(prompts)).reshape(len(classes), len(templates), -1).mean(axis=1)
    return emb / np.linalg.norm(emb, axis=1, keepdims=True)


@dataclass
class ZeroShotOptions:
    matcher: str = "conse"
    templates: tuple[str, ...] = TEMPLATES
    temperature: float = 0.01  # CLIP's learned logit scale is 100 = 1/0.01


class ZeroShot(Method):
    """Cosine similarity between image and class-prompt embeddings, softmaxed with CLIP's temperature."""

    name = "zeroshot"
    Options = ZeroShotOptions

    def fit(self, train: pd.DataFrame | None, classes: list[str]) -> ZeroShot:
        self.classes = check_classes(classes)  # zero-shot: the training images are never looked at
        return self

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        images = self.context.image_embeddings(items, self.matcher)
        texts = class_embeddings(self.context.matcher(self.matcher), self.classes, self.templates)
        return softmax(images @ texts.T / self.temperature)
