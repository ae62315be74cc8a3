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


def check_classes(classes: list[str]) -> list[str]:
    """Validate a class list: non-empty, no duplicates, no blanks."""
    classes = [str(c) for c in classes]
    if not classes:
        raise SteervisError("The class list is empty: give at least two class names.")
    seen: set[str] = set()
    dupes = sorted({c for c in classes if c in seen or seen.add(c)})
    if dupes:
        raise SteervisError(f"Duplicate class names: {', '.join(dupes)}. Each class must appear once.")
    if any(not c.strip() for c in classes):
        raise SteervisError("A class name is blank.")
    return classes


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
