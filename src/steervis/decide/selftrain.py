"""Unsupervised domain adaptation by pseudo-label self-training (VLLaVO's iterative finetuning).

Each round: predict the unlabelled target, keep the confident predictions as pseudo-labels (top fraction per
predicted class, or a confidence threshold; class-balanced by default), retrain on source + pseudo-labelled
target. Target labels, when given, are only logged, never used to choose anything.

>>> import numpy as np
>>> from steervis.decide.config import SelfTrainSettings
>>> from steervis.decide.selftrain import select_pseudo
>>> probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.45, 0.55]])
>>> select_pseudo(probs, SelfTrainSettings(fraction=0.5)).tolist()
[0, 2]
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from steervis.decide.config import SelfTrainSettings
from steervis.errors import SteervisError

log = logging.getLogger(__name__)


@dataclass
class RoundLog:
    """One self-training round: how many pseudo-labels were kept and, if labels exist, how good things were."""

    round: int
    pseudo: int
    pseudo_accuracy: float | None = None  # of the kept pseudo-labels (logged only)
    target_accuracy: float | None = None  # of the model that produced them (logged only)


def select_pseudo(probs: np.ndarray, settings: SelfTrainSettings) -> np.ndarray:
    """Indices of target items to pseudo-label with their arg-max class, most confident first per class.

    ``fraction``: keep the top ``fraction`` of the items predicted as each class (class-balanced) or of all
    items. ``threshold``: keep items whose top probability is at least ``threshold`` (and, class-balanced, at
    most as many per class as the rarest non-empty predicted class keeps, so no class floods the set).
    """
    if probs.ndim != 2 or len(probs) == 0:
        return np.zeros(0, dtype=int)
    pred, conf = probs.argmax(1), probs.max(1)
    if settings.selection == "fraction":
        if not 0 < settings.fraction <= 1:
            raise SteervisError(f"selftrain.fraction={settings.fraction} must be in (0, 1].")
        groups = [np.flatnonzero(pred == c) for c in np.unique(pred)] if settings.class_balanced \
            else [np.arange(len(pred))]
        keep = [g[np.argsort(-conf[g], kind="stable")][: math.ceil(settings.fraction * len(g))] for g in groups]
    else:
        groups = [np.flatnonzero((pred == c) & (conf >= settings.threshold)) for c in np.unique(pred)]
        groups = [g[np.argsort(-conf[g], kind="stable")] for g in groups if len(g)]
        cap = min((len(g) for g in groups), default=0) if settings.class_balanced else None
        keep = [g[:cap] for g in groups]
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=int)


def self_train(refit: Callable[[np.ndarray, np.ndarray], None], predict: Callable[[], np.ndarray],
               settings: SelfTrainSettings, target_labels: np.ndarray | None = None) -> list[RoundLog]:
    """Run ``settings.rounds`` rounds of predict → select → refit.

    Args:
        refit: ``(target indices, pseudo-label indices)`` → retrain on source plus those target items.
        predict: ``() -> probs [n_target, k]`` with the current model.
        settings: Rounds and selection rule.
        target_labels: Class indices of the target, for logging only.

    Returns:
        One log per round; round 0 is the source-only model, the last row is the final model.
    """
    logs: list[RoundLog] = []
    for r in range(settings.rounds + 1):
        probs = predict()
        pred = probs.argmax(1)
        keep = select_pseudo(probs, settings) if r < settings.rounds else np.zeros(0, dtype=int)
        entry = RoundLog(round=r, pseudo=int(len(keep)))
        if target_labels is not None:
            entry.target_accuracy = float((pred == target_labels).mean())
            entry.pseudo_accuracy = float((pred[keep] == target_labels[keep]).mean()) if len(keep) else None
        logs.append(entry)
        log.info("self-training round %d: %s", r, entry)
        if r < settings.rounds:
            refit(keep, pred[keep])
    return logs
