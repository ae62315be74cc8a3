"""Linear probe / ERM: multinomial logistic regression on frozen image features of the source domains.

>>> clf = LinearProbe(MethodContext(), backbone="efficientnet-lite0").fit(train, classes)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from steervis.device import check_placement
from steervis.errors import SteervisError
from steervis.methods.base import Method, check_classes, check_labels

FEATURES = ("pooled", "grid")


@dataclass
class LinearProbeOptions:
    backbone: str = "efficientnet-lite0"
    # pooled: the classifier's 1280-d average; grid: the vision tower's 4×4 tokens (16 × 320 = 5,120-d), which
    # keep where things are and probe better across styles (measured in the VLM probe study)
    feature: str = "pooled"
    # C=0.1: with ~10-30 images per class and 1280-d features, strong regularisation generalises across
    # styles.
    C: float = 0.1  # noqa: N815 (sklearn's name)
    matcher: str | None = None  # a matcher's image embeddings instead of the backbone's features
    seed: int = 0
    device: str = "auto"  # where its models run: auto, cpu, cuda, cuda:N
    dtype: str = "auto"  # their precision: auto, float32, bfloat16, float16

    def __post_init__(self) -> None:
        check_placement(self)
        if self.feature not in FEATURES:
            raise SteervisError(f"linear-probe has no feature {self.feature!r}: choose one of "
                                f"{', '.join(FEATURES)}.")


class LinearProbe(Method):
    """Standardised frozen features → L2-regularised multinomial logistic regression (scikit-learn)."""

    name = "linear-probe"
    Options = LinearProbeOptions
    model = None

    def _features(self, items: pd.DataFrame) -> np.ndarray:
        if self.matcher:  # CLIP (or ConSE) image embeddings instead of classifier features
            return self.context.image_embeddings(items, self.matcher, self.device, self.dtype)
        if self.feature == "grid":
            return self.context.grid_features(items, self.backbone, device=self.device, dtype=self.dtype)
        return self.context.image_features(items, self.backbone, self.device, self.dtype)

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

    def save(self, directory: str | Path) -> Path:
        directory = super().save(directory)
        scaler, logreg = self.model[0], self.model[1]
        np.savez(directory / "linear_probe.npz", mean=scaler.mean_, scale=scaler.scale_, coef=logreg.coef_,
                 intercept=logreg.intercept_, seen=logreg.classes_)
        return directory

    def _load_state(self, directory: Path) -> None:
        self.model = fitted_pipeline(np.load(directory / "linear_probe.npz", allow_pickle=False), self.C,
                                     self.seed)


def fitted_pipeline(arrays: dict[str, np.ndarray], C: float, seed: int) -> object:  # noqa: N803
    """The scaler + logistic regression pipeline rebuilt from its saved arrays (no pickle)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scaler, logreg = StandardScaler(), LogisticRegression(C=C, max_iter=2000, random_state=seed)
    scaler.mean_, scaler.scale_, scaler.var_ = arrays["mean"], arrays["scale"], arrays["scale"] ** 2
    logreg.coef_, logreg.intercept_, logreg.classes_ = arrays["coef"], arrays["intercept"], arrays["seen"]
    scaler.n_features_in_ = logreg.n_features_in_ = arrays["mean"].shape[0]
    return make_pipeline(scaler, logreg)
