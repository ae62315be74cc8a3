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

from steervis.device import check_placement
from steervis.matchers.prompts import STYLE_TEMPLATES, class_embeddings
from steervis.methods.base import Method, check_classes
from steervis.numeric import softmax


@dataclass
class ZeroShotOptions:
    matcher: str = "conse"
    templates: tuple[str, ...] = STYLE_TEMPLATES
    temperature: float = 0.01  # CLIP's learned logit scale is 100 = 1/0.01
    device: str = "auto"  # where its models run: auto, cpu, cuda, cuda:N
    dtype: str = "auto"  # their precision: auto, float32, bfloat16, float16

    def __post_init__(self) -> None:
        check_placement(self)


class ZeroShot(Method):
    """Cosine similarity between image and class-prompt embeddings, softmaxed with CLIP's temperature."""

    name = "zeroshot"
    Options = ZeroShotOptions

    def fit(self, train: pd.DataFrame | None, classes: list[str]) -> ZeroShot:
        self.classes = check_classes(classes)  # zero-shot: the training images are never looked at
        return self

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        images = self.context.image_embeddings(items, self.matcher, self.device, self.dtype)
        texts = class_embeddings(self.classes, self.templates,
                                 self.context.matcher(self.matcher, self.device, self.dtype).encode_texts)
        return softmax(images @ texts.T / self.temperature)
