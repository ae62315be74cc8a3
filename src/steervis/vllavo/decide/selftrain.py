"""Unsupervised domain adaptation by pseudo-label self-training (VLLaVO's iterative finetuning).

Each round: predict the unlabelled target, keep the confident predictions as pseudo-labels (top fraction per
predicted class, or a confidence threshold; class-balanced by default), retrain on source + pseudo-labelled
target. Target labels, when given, are only logged, never used to choose anything.

>>> import numpy as np
>>> from steervis.vllavo.decide.config import SelfTrainSettings
>>> from steervis.vllavo.decide.selftrain import select_pseudo
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

from steervis.errors import SteervisError
from steervis.vllavo.decide.config import SelfTrainSettings

log = logging.getLogger(__name__)


@dataclass
class RoundLog:
    """One self-training round: the pseudo-labels it chose and, if target labels exist, how good they were.

    ``changed`` is the share of target items whose pseudo-label (a class, or none) differs from the previous
    round's. Precision: kept pseudo-labels that are right; recall: target items that got a right one.
    """

    round: int
    pseudo: int
    changed: float | None = None  # None in round 0: nothing to compare with
    classes_covered: int = 0  # distinct classes among the kept pseudo-labels
    pseudo_accuracy: float | None = None  # precision of the kept pseudo-labels (logged only)
    pseudo_recall: float | None = None  # right pseudo-labels / target items (logged only)
    target_accuracy: float | None = None  # of the model that produced them (logged only)
    stopped_early: bool = False  # this round's pseudo-labels barely changed: no further refit


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
        keep = [g[np.argsort(-conf[g], kind="stable")][: math.ceil(settings.fraction * len(g))]
                for g in groups]
    else:
        groups = [np.flatnonzero((pred == c) & (conf >= settings.threshold)) for c in np.unique(pred)]
        groups = [g[np.argsort(-conf[g], kind="stable")] for g in groups if len(g)]
        cap = min((len(g) for g in groups), default=0) if settings.class_balanced else None
        keep = [g[:cap] for g in groups]
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=int)


def self_train(refit: Callable[[np.ndarray, np.ndarray], None], predict: Callable[[], np.ndarray],
               settings: SelfTrainSettings, target_labels: np.ndarray | None = None) -> list[RoundLog]:
    """Run up to ``settings.rounds`` rounds of predict → select → refit, stopping early when they settle.

    Args:
        refit: ``(target indices, pseudo-label indices)`` → retrain on source plus those target items.
        predict: ``() -> probs [n_target, k]`` with the current model.
        settings: Rounds, selection rule and the early-stop share ``min_change``.
        target_labels: Class indices of the target, for logging only.

    Returns:
        One log per round; round 0 is the source-only model, the last row is the final model.
    """
    logs: list[RoundLog] = []
    previous: np.ndarray | None = None
    for r in range(settings.rounds + 1):
        probs = predict()
        pred = probs.argmax(1)
        keep = select_pseudo(probs, settings)
        assigned = np.full(len(pred), -1)  # the pseudo-label of every target item, -1 where none is kept
        assigned[keep] = pred[keep]
        entry = RoundLog(round=r, pseudo=int(len(keep)), classes_covered=int(len(np.unique(pred[keep]))))
        if previous is not None:
            entry.changed = float((assigned != previous).mean())
        if target_labels is not None:
            right = int((pred[keep] == target_labels[keep]).sum())
            entry.target_accuracy = float((pred == target_labels).mean())
            entry.pseudo_accuracy = right / len(keep) if len(keep) else None
            entry.pseudo_recall = right / len(pred)
        last = r == settings.rounds
        if not last and entry.changed is not None and entry.changed < settings.min_change:
            entry.stopped_early, last = True, True
        if last:  # the final model: its pseudo-labels are reported but never trained on
            logs.append(entry)
            log.info("self-training round %d (final): %s", r, entry)
            break
        logs.append(entry)
        log.info("self-training round %d: %s", r, entry)
        refit(keep, pred[keep])
        previous = assigned
    return logs
