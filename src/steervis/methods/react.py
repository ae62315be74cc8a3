"""``react``: REACT as a harness method. Customize the matcher on pool pairs retrieved for the class names
(never on the task's images), then classify zero-shot with it. ``base`` picks what is customized (``conse``,
``conse-lite2``, ``tiny-clip`` or a CLIP hub id: :data:`steervis.react.bases.REACT_BASES`).

>>> from steervis.methods.react import React
>>> React.name
'react'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis.classes import check_classes
from steervis.device import check_placement
from steervis.errors import SteervisError
from steervis.matchers.prompts import STYLE_TEMPLATES, class_embeddings
from steervis.methods.base import Method
from steervis.numeric import softmax


@dataclass
class ReactOptions:
    """Options of ``react``.

    Attributes:
        k: Pairs retrieved per class.
        mode: ``t2t`` (text-to-text) or ``t2i`` (text-to-image) retrieval.
        temperature: Softmax temperature over cosines (CLIP's 0.01).
        base: The matcher customized (a name of ``REACT_BASES`` or a CLIP hub id).
        pool: The knowledge pool's folder (default: the built one in ``STEERVIS_HOME/data/pool``).
        epochs: Training epochs (default: react-pool's model selection's choice, else 10).
    """

    k: int = 50
    mode: str = "t2t"
    temperature: float = 0.01
    base: str = "conse"
    pool: str | None = None
    epochs: int | None = None
    device: str = "auto"  # where its models run: auto, cpu, cuda, cuda:N
    dtype: str = "auto"  # their precision: auto, float32, bfloat16, float16

    def __post_init__(self) -> None:
        check_placement(self)


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
        from steervis.react.build import react_for
        from steervis.react.config import task_settings
        from steervis.react.matchers import load_customized

        self.classes = check_classes(classes)  # the training images are never looked at: only the names
        settings = replace(task_settings(), device=self.device, dtype=self.dtype)
        if self.epochs is not None:
            settings = replace(settings, epochs=self.epochs)
        self.directory = react_for(self.classes, k=self.k, mode=self.mode, settings=settings,
                                   progress=self.progress, base=self.base, root=self.pool)
        self._matcher = load_customized(self.directory, name="react", device=self.device, dtype=self.dtype)
        return self

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        from steervis.react.bases import REACT_BASES

        if self._matcher is None:
            raise SteervisError("react is not fitted: call fit(train, classes) first.")
        images = REACT_BASES.build(self.base).embed(self._matcher, items, progress=self.progress)
        texts = class_embeddings(self.classes, STYLE_TEMPLATES, self._matcher.encode_texts)
        return softmax(images @ texts.T / self.temperature)

    def save(self, directory: str | Path) -> Path:
        directory = super().save(directory)
        (directory / "head.json").write_text(json.dumps({"head": str(self.directory)}))
        return directory

    def _load_state(self, directory: Path) -> None:
        from steervis.react.matchers import load_customized

        self.directory = Path(json.loads((directory / "head.json").read_text())["head"])
        self._matcher = load_customized(self.directory, name="react", device=self.device, dtype=self.dtype)
