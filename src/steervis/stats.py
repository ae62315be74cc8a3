"""Intervals for accuracies: every number that decides something is reported with its 95 % interval.

Percentile bootstrap over test items (the items are what would change in another draw of the data); a paired
difference resamples the same items for both methods, so it measures whether one beats the other on *these*
images, which is tighter and more honest than comparing two separate intervals.

>>> correct = np.array([1, 1, 0, 1, 0, 1, 1, 1])
>>> acc, lo, hi = accuracy_ci(correct)
>>> round(acc, 3), lo <= acc <= hi
(0.75, True)
"""

from __future__ import annotations

import numpy as np

BOOTSTRAP = 2000  # resamples: the 2.5 / 97.5 percentiles move by < 0.5 point at this count
SEED = 0


def accuracy_ci(correct: np.ndarray, level: float = 0.95, resamples: int = BOOTSTRAP) -> tuple[float, float, float]:
    """Mean of a 0/1 vector and its bootstrap interval."""
    correct = np.asarray(correct, dtype=np.float64)
    if correct.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(SEED)
    means = correct[rng.integers(0, correct.size, (resamples, correct.size))].mean(axis=1)
    tail = (1 - level) / 2
    return float(correct.mean()), float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def paired_difference_ci(a: np.ndarray, b: np.ndarray, level: float = 0.95,
                         resamples: int = BOOTSTRAP) -> tuple[float, float, float]:
    """Accuracy of ``a`` minus ``b`` on the same items, with a paired bootstrap interval."""
    return accuracy_ci(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64), level, resamples)
