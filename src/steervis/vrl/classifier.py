"""VRL's interpretable classifiers on criterion vectors (scikit-learn): logistic regression, a shallow
decision tree, a small MLP.

Hyperparameters are chosen by stratified cross-validation within the shots; with one shot of some class
there is nothing to hold out, and the fixed defaults are used (the choice is recorded in ``selection``).
Criteria that score every shot the same are dropped; when all do, the classifier predicts the class
frequencies of the shots, and says so in ``fallback``.

>>> import numpy as np
>>> x = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.7]])
>>> fitted = fit_classifier(x, np.array([0, 0, 1, 1]))
>>> fitted.predict_proba(x).argmax(axis=1).tolist(), fitted.selection
([0, 0, 1, 1], 'cross-validation over 2 folds')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from steervis.errors import SteervisError

# name → (estimator factory, its fixed defaults, the grid cross-validation searches)
KINDS: dict[str, tuple[str, dict[str, Any], dict[str, list[Any]]]] = {
    # C=1: sklearn's default; the grid spans strong to weak regularisation for a few standardised criteria
    "logreg": ("sklearn.linear_model:LogisticRegression", {"C": 1.0, "max_iter": 2000},
               {"C": [0.01, 0.1, 1.0, 10.0]}),
    # depth 3: at most 8 leaves, a tree a person reads at a glance
    "tree": ("sklearn.tree:DecisionTreeClassifier", {"max_depth": 3}, {"max_depth": [1, 2, 3, 4]}),
    # 32 hidden units: few-shot data fits no more; alpha (L2) is what cross-validation tunes
    "mlp": ("sklearn.neural_network:MLPClassifier", {"hidden_layer_sizes": (32,), "alpha": 1e-2,
                                                     "max_iter": 2000}, {"alpha": [1e-4, 1e-2, 1.0]}),
}
CONSTANT = 1e-12  # a criterion whose scores vary less than this over the shots carries nothing


def _estimator(kind: str, params: dict[str, Any], seed: int) -> Any:
    import importlib

    from sklearn.feature_selection import VarianceThreshold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    target, defaults, _ = KINDS[kind]
    module, _, name = target.partition(":")
    model = getattr(importlib.import_module(module), name)(**{**defaults, **params}, random_state=seed)
    return make_pipeline(VarianceThreshold(CONSTANT), StandardScaler(), model)


@dataclass
class FittedClassifier:
    """A fitted pipeline, the labels it saw, the hyperparameters chosen and how, and any fallback."""

    kind: str
    model: Any
    params: dict[str, Any]
    selection: str
    fallback: str = ""

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """[n, seen labels] probabilities, columns in ``self.labels`` order."""
        return self.model.predict_proba(np.asarray(x, dtype=np.float64))

    @property
    def labels(self) -> np.ndarray:
        return self.model.classes_


def fit_classifier(x: np.ndarray, y: np.ndarray, kind: str = "logreg", seed: int = 0,
                   params: dict[str, Any] | None = None) -> FittedClassifier:
    """Fit ``kind`` on criterion vectors ``x`` [n, m] and label indices ``y``; ``params`` skips the search."""
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    if kind not in KINDS:
        raise SteervisError(f"VRL has no classifier {kind!r}: choose one of {', '.join(KINDS)}.")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y)
    seen, counts = np.unique(y, return_counts=True)
    if len(seen) < 2:
        raise SteervisError(f"VRL needs shots of at least two classes; these shots hold {len(seen)}.")
    if x.ndim != 2 or x.shape[0] != len(y) or x.shape[1] == 0:
        raise SteervisError(f"VRL got criterion vectors of shape {x.shape} for {len(y)} shots.")
    if np.ptp(x, axis=0).max() <= CONSTANT:
        model = DummyClassifier(strategy="prior").fit(x, y)
        return FittedClassifier(kind, model, {}, "none", "every criterion scores every shot the same: "
                                "predicting the class frequencies of the shots")
    if params is not None:
        return FittedClassifier(kind, _estimator(kind, params, seed).fit(x, y), dict(params), "given")
    if counts.min() < 2:
        return FittedClassifier(kind, _estimator(kind, {}, seed).fit(x, y), {},
                                "defaults (a class has one shot: nothing to cross-validate on)")
    folds = int(min(5, counts.min()))  # five folds at most; fewer when a class has fewer shots
    grid = {f"{kind_step(kind)}__{k}": v for k, v in KINDS[kind][2].items()}
    search = GridSearchCV(_estimator(kind, {}, seed), grid,
                          cv=StratifiedKFold(folds, shuffle=True, random_state=seed)).fit(x, y)
    chosen = {k.split("__", 1)[1]: v for k, v in search.best_params_.items()}
    return FittedClassifier(kind, search.best_estimator_, chosen, f"cross-validation over {folds} folds")


def kind_step(kind: str) -> str:
    """The pipeline step name of ``kind``'s estimator (``make_pipeline`` names steps by class)."""
    return KINDS[kind][0].rpartition(":")[2].lower()


def top_criteria(fitted: FittedClassifier, lines: Sequence[str], class_names: Sequence[str],
                 top: int = 5) -> dict[str, list[tuple[str, float]]]:
    """The readable view: per class, its ``top`` criteria by weight (logistic regression); for a tree or an
    MLP, under ``"all classes"``, the criteria by importance (the tree's impurity decrease, the MLP's
    first-layer weight norm on standardised criteria)."""
    if fitted.fallback:
        return {}
    selector, model = fitted.model[0], fitted.model[-1]
    kept = [lines[i] for i in np.flatnonzero(selector.get_support())]

    def best(weights: np.ndarray) -> list[tuple[str, float]]:
        order = np.argsort(-np.abs(weights), kind="stable")[:top]
        return [(kept[i], round(float(weights[i]), 4)) for i in order]

    if fitted.kind == "logreg":
        coef = model.coef_
        if coef.shape[0] == 1:  # binary: one row, positive toward the second label
            coef = np.vstack([-coef[0], coef[0]])
        return {class_names[label]: best(row) for label, row in zip(fitted.labels, coef, strict=True)}
    if fitted.kind == "tree":
        return {"all classes": best(model.feature_importances_)}
    return {"all classes": best(np.linalg.norm(model.coefs_[0], axis=1))}


def explain(fitted: FittedClassifier, lines: Sequence[str], class_names: Sequence[str], top: int = 5) -> str:
    """The readable view as text: the fallback, or per class its top criteria and weights (a tree's rules
    too)."""
    if fitted.fallback:
        return f"No criterion: {fitted.fallback}."
    out = []
    for name, pairs in top_criteria(fitted, lines, class_names, top).items():
        out += [f"{name}:"] + [f"  {w:+.3f}  {line}" for line, w in pairs]
    if fitted.kind == "tree":
        from sklearn.tree import export_text

        kept = [lines[i] for i in np.flatnonzero(fitted.model[0].get_support())]
        rules = export_text(fitted.model[-1], feature_names=kept,
                            class_names=[class_names[k] for k in fitted.labels])
        out += ["rules (standardised scores):", rules]
    return "\n".join(out)
