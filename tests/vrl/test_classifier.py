"""The interpretable classifiers on criterion vectors: fitting, selection within the shots, fallbacks, the
readable view."""

from __future__ import annotations

import numpy as np
import pytest

from steervis.errors import SteervisError
from steervis.vrl.classifier import KINDS, explain, fit_classifier, top_criteria

LINES = ["noise", "striped fur | plain fur", "bushy tail"]
NAMES = ["cat", "dog", "fox"]


def separable(per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Criterion 1 marks cats, criterion 2 (less strongly) foxes; criterion 0 is noise."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), per_class)
    x = rng.normal(0, 0.05, (len(y), 3))
    x[:, 1] += 2.0 * (y == 0)
    x[:, 2] += y == 2
    return x, y


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_fits_separable_criterion_vectors(kind):
    x, y = separable(6)
    fitted = fit_classifier(x, y, kind)
    test_x, test_y = separable(4, seed=1)
    assert (fitted.predict_proba(test_x).argmax(1) == test_y).mean() >= 0.9
    assert fitted.selection == "cross-validation over 5 folds" and set(fitted.params) == set(KINDS[kind][2])
    view = top_criteria(fitted, LINES, NAMES)
    assert view["cat" if kind == "logreg" else "all classes"][-1][0] == LINES[0]  # noise weighs least


def test_one_shot_per_class_uses_the_fixed_defaults():
    x, y = separable(1)
    fitted = fit_classifier(x, y, "logreg")
    assert fitted.selection.startswith("defaults") and fitted.predict_proba(x).argmax(1).tolist() == [0, 1, 2]


def test_criteria_that_score_everything_the_same_fall_back_to_the_class_frequencies():
    fitted = fit_classifier(np.ones((4, 2)), np.array([0, 0, 0, 1]), "tree")
    assert fitted.fallback and np.allclose(fitted.predict_proba(np.zeros((1, 2))), [[0.75, 0.25]])
    assert explain(fitted, LINES[:2], NAMES).startswith("No criterion: every criterion scores")
    assert top_criteria(fitted, LINES[:2], NAMES) == {}


def test_constant_criteria_are_dropped_and_the_view_names_the_rest():
    x, y = separable(4)
    x[:, 0] = 0.5  # a criterion every shot scores the same
    fitted = fit_classifier(x[y < 2], y[y < 2], "logreg")
    view = top_criteria(fitted, LINES, NAMES)
    assert set(view) == {"cat", "dog"} and view["cat"][0][0] == view["dog"][0][0] == LINES[1]
    assert view["cat"][0][1] > 0 > view["dog"][0][1]  # binary: one weight row, mirrored for the other class
    assert all(line != LINES[0] for pairs in view.values() for line, _ in pairs)


def test_a_tree_explains_itself_with_rules():
    x, y = separable(4)
    text = explain(fit_classifier(x, y, "tree"), LINES, NAMES)
    assert "rules" in text and "striped fur | plain fur <=" in text and "class: fox" in text


def test_bad_shots_are_one_sentence():
    with pytest.raises(SteervisError, match="at least two classes"):
        fit_classifier(np.ones((3, 2)), np.zeros(3, int))
    with pytest.raises(SteervisError, match="shape"):
        fit_classifier(np.ones((3, 0)), np.array([0, 1, 1]))
    with pytest.raises(SteervisError, match="no classifier 'svm'"):
        fit_classifier(*separable(2), kind="svm")
