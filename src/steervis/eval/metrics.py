"""Accuracy tables and confusion matrices from a predictions frame.

>>> import pandas as pd
>>> p = pd.DataFrame({"method": ["m", "m"], "split": ["a", "a"], "class": ["x", "y"], "pred": ["x", "x"]})
>>> accuracy_table(p).to_dict()
{'a': {'m': 0.5}, 'mean': {'m': 0.5}}
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def accuracy_table(preds: pd.DataFrame) -> pd.DataFrame:
    """Rows = methods (in order of appearance), columns = splits + mean over splits."""
    acc = (preds.assign(correct=preds["pred"] == preds["class"])
           .groupby(["method", "split"], sort=False)["correct"].mean().unstack("split"))
    acc = acc.reindex(index=list(dict.fromkeys(preds["method"])), columns=list(dict.fromkeys(preds["split"])))
    acc["mean"] = acc.mean(axis=1)
    return acc


def interval_table(preds: pd.DataFrame) -> dict[str, dict[str, list[float]]]:
    """``{method: {split: [accuracy, low, high]}}`` with 95 % bootstrap intervals; ``mean`` resamples every
    split independently. Splits a method has no rows for are left out."""
    from steervis.stats import accuracy_ci, mean_of_groups_ci

    out: dict[str, dict[str, list[float]]] = {}
    correct = preds.assign(correct=(preds["pred"] == preds["class"]).astype(float))
    for method, rows in correct.groupby("method", sort=False):
        groups = {split: g["correct"].to_numpy() for split, g in rows.groupby("split", sort=False)}
        out[method] = {split: [round(v, 6) for v in accuracy_ci(g)] for split, g in groups.items()}
        out[method]["mean"] = [round(v, 6) for v in mean_of_groups_ci(list(groups.values()))]
    return out


def markdown_interval_table(intervals: dict[str, dict[str, list[float]]], digits: int = 1) -> str:
    """``acc [low, high]`` per method and split, as percentages, in a GitHub markdown table."""
    cols = list(dict.fromkeys(c for row in intervals.values() for c in row if c != "mean")) + ["mean"]
    lines = ["| method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for method, row in intervals.items():
        cells = [f"{100 * row[c][0]:.{digits}f} [{100 * row[c][1]:.{digits}f}, {100 * row[c][2]:.{digits}f}]"
                 if c in row else "—" for c in cols]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def confusion(preds: pd.DataFrame, classes: list[str]) -> np.ndarray:
    """[true, predicted] counts over all rows of ``preds``."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    for truth, pred in zip(preds["class"], preds["pred"], strict=True):
        matrix[index[truth], index[pred]] += 1
    return matrix


def markdown_table(table: pd.DataFrame, digits: int = 1) -> str:
    """Accuracies as percentages in a GitHub markdown table."""
    cols = list(table.columns)
    lines = ["| method | " + " | ".join(map(str, cols)) + " |", "|---" * (len(cols) + 1) + "|"]
    for method, row in table.iterrows():
        cells = ["—" if pd.isna(v) else f"{100 * v:.{digits}f}" for v in row]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
