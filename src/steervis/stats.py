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


def percent(triple: tuple[float, float, float]) -> list[float]:
    """An (estimate, low, high) of fractions as percentages, one decimal: how studies report them."""
    return [round(100 * v, 1) for v in triple]


def resampled_rows(n: int, resamples: int = BOOTSTRAP, seed: int = SEED) -> np.ndarray:
    """``[resamples, n]`` row indices, each row a draw of ``n`` items with replacement; the same draws for
    the same ``n`` and seed (a statistic other than a mean resamples with these)."""
    return np.random.default_rng(seed).integers(0, n, (resamples, n))


def bootstrap_means(values: np.ndarray, resamples: int = BOOTSTRAP) -> np.ndarray:
    """Means of ``resamples`` resamples (with replacement) of ``values``; the same draws for the same
    length."""
    values = np.asarray(values, dtype=np.float64)
    return values[resampled_rows(values.size, resamples)].mean(axis=1)


def interval(means: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval of bootstrap means."""
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def accuracy_ci(correct: np.ndarray, level: float = 0.95,
                resamples: int = BOOTSTRAP) -> tuple[float, float, float]:
    """Mean of a 0/1 vector and its bootstrap interval."""
    correct = np.asarray(correct, dtype=np.float64)
    if correct.size == 0:
        return float("nan"), float("nan"), float("nan")
    return (float(correct.mean()), *interval(bootstrap_means(correct, resamples), level))


def mean_of_groups_ci(groups: list[np.ndarray], level: float = 0.95,
                      resamples: int = BOOTSTRAP) -> tuple[float, float, float]:
    """The mean over groups of each group's mean (e.g. accuracy averaged over held-out domains), with an
    interval from resampling every group independently (each domain's images are their own draw)."""
    groups = [np.asarray(g, dtype=np.float64) for g in groups if len(g)]
    if not groups:
        return float("nan"), float("nan"), float("nan")
    means = np.mean([bootstrap_means(g, resamples) for g in groups], axis=0)
    return (float(np.mean([g.mean() for g in groups])), *interval(means, level))


def paired_difference_ci(a: np.ndarray, b: np.ndarray, level: float = 0.95,
                         resamples: int = BOOTSTRAP) -> tuple[float, float, float]:
    """Accuracy of ``a`` minus ``b`` on the same items, with a paired bootstrap interval."""
    return accuracy_ci(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64), level, resamples)
