"""Zero-shot matcher (ZS-CLIP): class-name prompts averaged over a template ensemble, no training.

>>> from steervis.methods.context import MethodContext
>>> clf = ZeroShot(MethodContext(), matcher="conse").fit(train=None, classes=["dog", "cat"])  # doctest: +SKIP
>>> clf.predict_proba(frame).shape  # doctest: +SKIP
(n, 2)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from steervis.methods.base import check_classes
from steervis.methods.context import MethodContext

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


def softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def class_embeddings(matcher, classes: list[str], templates: tuple[str, ...]) -> np.ndarray:
    """Mean of each class's prompt embeddings, renormalised: [k, d]."""
    prompts = [t.format(c) for c in classes for t in templates]
    emb = np.asarray(matcher.encode_texts(prompts)).reshape(len(classes), len(templates), -1).mean(axis=1)
    return emb / np.linalg.norm(emb, axis=1, keepdims=True)


class ZeroShot:
    """Cosine similarity between image and class-prompt embeddings, softmaxed with CLIP's temperature."""

    name = "zeroshot"

    def __init__(self, context: MethodContext, matcher: str = "conse", templates: tuple[str, ...] = TEMPLATES,
                 temperature: float = 0.01):  # CLIP's learned logit scale is 100 = 1/0.01
        self.context, self.matcher, self.templates, self.temperature = context, matcher, tuple(templates), temperature
        self.classes: list[str] = []

    def fit(self, train: pd.DataFrame | None, classes: list[str]) -> ZeroShot:
        self.classes = check_classes(classes)  # zero-shot: the training images are never looked at
        return self

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        images = self.context.image_embeddings(items, self.matcher)
        texts = class_embeddings(self.context.matcher(self.matcher), self.classes, self.templates)
        return softmax(images @ texts.T / self.temperature)

    def save(self, directory: str | Path) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        state = {"method": self.name, "matcher": self.matcher, "templates": self.templates,
                 "temperature": self.temperature, "classes": self.classes}
        (Path(directory) / "method.json").write_text(json.dumps(state, indent=2))


def factory(context: MethodContext, **options) -> ZeroShot:
    return ZeroShot(context, **options)
