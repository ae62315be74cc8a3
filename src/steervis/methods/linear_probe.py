"""Linear probe / ERM: multinomial logistic regression on frozen image features of the source domains.

>>> clf = LinearProbe(MethodContext(), backbone="efficientnet-lite0").fit(train, classes)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from steervis.methods.base import check_classes, check_labels
from steervis.methods.context import MethodContext


class LinearProbe:
    """Standardised frozen features → L2-regularised multinomial logistic regression (scikit-learn)."""

    name = "linear-probe"

    def __init__(self, context: MethodContext, backbone: str = "efficientnet-lite0", feature: str = "pooled",
                 C: float = 0.1, matcher: str | None = None, seed: int = 0):  # noqa: N803 (sklearn's name)
        # C=0.1: with ~10-30 images per class and 1280-d features, strong regularisation generalises across styles.
        self.context, self.backbone, self.feature, self.C, self.matcher, self.seed = (
            context, backbone, feature, C, matcher, seed)
        self.classes: list[str] = []
        self.model = None

    def _features(self, items: pd.DataFrame) -> np.ndarray:
        if self.matcher:  # CLIP (or ConSE) image embeddings instead of classifier features
            return self.context.image_embeddings(items, self.matcher)
        return self.context.image_features(items, self.backbone)

    def fit(self, train: pd.DataFrame, classes: list[str]) -> LinearProbe:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.classes = check_classes(classes)
        labels = check_labels(train, self.classes)
        self.model = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=2000,
                                                                        random_state=self.seed))
        self.model.fit(self._features(train), labels)
        return self

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        # Classes absent from training get probability 0: scatter sklearn's columns into the full class list.
        proba = np.zeros((len(items), len(self.classes)))
        proba[:, self.model.classes_] = self.model.predict_proba(self._features(items))
        return proba

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        scaler, logreg = self.model[0], self.model[1]
        np.savez(directory / "linear_probe.npz", mean=scaler.mean_, scale=scaler.scale_, coef=logreg.coef_,
                 intercept=logreg.intercept_, seen=logreg.classes_)
        state = {"method": self.name, "backbone": self.backbone, "matcher": self.matcher, "C": self.C,
                 "classes": self.classes}
        (directory / "method.json").write_text(json.dumps(state, indent=2))


def factory(context: MethodContext, **options) -> LinearProbe:
    return LinearProbe(context, **options)
