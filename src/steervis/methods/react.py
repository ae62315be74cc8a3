"""``react``: REACT as a harness method. Customize the matcher on pool pairs retrieved for the class names
(never on the task's images), then classify zero-shot with it.

>>> from steervis.methods.react import React
>>> React.name
'react'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis.classes import check_classes
from steervis.errors import SteervisError
from steervis.methods.base import Method
from steervis.methods.zeroshot import TEMPLATES, class_embeddings
from steervis.numeric import softmax


@dataclass
class ReactOptions:
    """Options of ``react``.

    Attributes:
        k: Pairs retrieved per class.
        mode: ``t2t`` (text-to-text) or ``t2i`` (text-to-image) retrieval.
        temperature: Softmax temperature over cosines (CLIP's 0.01).
    """

    k: int = 50
    mode: str = "t2t"
    temperature: float = 0.01


class React(Method):
    """Zero-shot classification with a matcher customized REACT's way for these classes."""

    name = "react"
    Options = ReactOptions

    def __init__(self, context: Any = None, options: ReactOptions | None = None, **values: Any):
        super().__init__(context, options, **values)
        self.progress = getattr(self.context, "progress", True)
        self.directory: Path | None = None
        self._matcher: Any = None

    def fit(self, train: pd.DataFrame | None, classes: list[str]) -> React:
        from steervis.describe.matchers import ReactMatcher
        from steervis.retrieval.customize import react_for

        self.classes = check_classes(classes)  # the training images are never looked at: only the names
        self.directory = react_for(self.classes, k=self.k, mode=self.mode, progress=self.progress)
        self._matcher = ReactMatcher(self.directory, name="react")
        return self

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        from steervis.retrieval.features import image_features
        from steervis.retrieval.react import apply_head

        if self._matcher is None:
            raise SteervisError("react is not fitted: call fit(train, classes) first.")
        feats = image_features(self._matcher.base, items["path"].tolist(), items["sha256"].tolist(),
                               progress=self.progress)
        images = apply_head(self._matcher.head, feats.base, feats.pooled)
        texts = class_embeddings(self._matcher, self.classes, TEMPLATES)
        return softmax(images @ texts.T / self.temperature)

    def save(self, directory: str | Path) -> Path:
        directory = super().save(directory)
        (directory / "head.json").write_text(json.dumps({"head": str(self.directory)}))
        return directory

    def _load_state(self, directory: Path) -> None:
        from steervis.describe.matchers import ReactMatcher

        self.directory = Path(json.loads((directory / "head.json").read_text())["head"])
        self._matcher = ReactMatcher(self.directory, name="react")
