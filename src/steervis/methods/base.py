"""The one contract every method meets, baseline or flagship, so a protocol can run any of them.

A method sees items as a pandas DataFrame with (at least) ``path``, ``domain``, ``sha256`` and, when
labelled, ``class``. Methods are built by name from ``METHODS`` with a ``MethodContext`` that shares the
expensive, cached pieces (descriptions, image features, loaded models) between methods in one run.

>>> from steervis.methods import METHODS
>>> "zeroshot" in METHODS  # doctest: +SKIP
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from steervis.classes import check_classes  # noqa: F401  (re-exported: methods validate classes here)
from steervis.errors import SteervisError
from steervis.registry import Registry

METHODS = Registry("method")


@runtime_checkable
class Classifier(Protocol):
    """fit on labelled items, then give a probability vector over ``classes`` for each item."""

    name: str
    classes: list[str]

    def fit(self, train: pd.DataFrame, classes: list[str]) -> Classifier: ...

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray: ...

    def save(self, directory: str | Path) -> None: ...


def check_labels(train: pd.DataFrame, classes: list[str]) -> np.ndarray:
    """Label indices of ``train``; an unknown label is an error that names it."""
    if "class" not in train:
        raise SteervisError("Training items have no 'class' column: fitting needs labels.")
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(train["class"]) - set(index))
    if unknown:
        raise SteervisError(f"Training labels not among the classes: {', '.join(map(str, unknown[:10]))}.")
    return train["class"].map(index).to_numpy()


def method_kwargs(options: dict[str, Any] | None) -> dict[str, Any]:
    return dict(options or {})
