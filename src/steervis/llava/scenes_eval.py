"""steervis' LLaVA on the scenes: greedy answers to a split's questions by type, and the POPE probe.

Each scenes split (``train``, ``test-seen``, ``test-unseen``, ``test-styles``) keeps its last tenth as a
``val`` part, where recipes are chosen; ``main`` is scored once per final model. Every question has a
one-word answer (a number, a colour, a name, yes or no), scored by exact match after :func:`normalise`.

POPE (Li et al., 2023, "Evaluating Object Hallucination in Large Vision-Language Models") asks "Is there a X
in the image?" for a present object and for an absent one drawn at random, among the most frequent names
(popular) or among names sharing a category with a present object (adversarial), as many yes as no; it
reports accuracy, precision, recall and F1 of "yes", and how often the model says yes (a model that always
agrees scores 50 % accuracy and a yes-ratio of 1).

>>> pope_metrics(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))["f1"]
0.6667
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from steervis.errors import SteervisError
from steervis.llava.evaluate import normalise, shown
from steervis.llava.model import SHORT_ANSWER
from steervis.stats import accuracy_ci, interval, resampled_rows

PARTS = ("val", "main")
SETTINGS = ("random", "popular", "adversarial")


def said_yes(answer: str) -> bool:
    """POPE's reading of a free answer: "no" when it says no or not anywhere, else "yes".

    >>> said_yes("Yes, there is."), said_yes("There is not."), said_yes("No")
    (True, False, False)
    """
    return re.search(r"\b(no|not)\b", answer.lower()) is None


def pope_metrics(yes: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of "yes" and the yes-ratio, from 0/1 answers and truths."""
    yes, gold = np.asarray(yes, dtype=bool), np.asarray(gold, dtype=bool)
    hits = float((yes & gold).sum())
    precision = hits / yes.sum() if yes.any() else 0.0
    recall = hits / gold.sum() if gold.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {k: round(float(v), 4) for k, v in {
        "accuracy": (yes == gold).mean(), "precision": precision, "recall": recall, "f1": f1,
        "yes_ratio": yes.mean()}.items()}


def _pope_with_ci(yes: np.ndarray, gold: np.ndarray) -> dict[str, Any]:
    """:func:`pope_metrics`, each ``[value, low, high]`` from a bootstrap over the questions."""
    point = pope_metrics(yes, gold)
    draws = [pope_metrics(yes[idx], gold[idx]) for idx in resampled_rows(len(yes))]
    out: dict[str, Any] = {k: [v, *(round(b, 4) for b in interval(np.array([d[k] for d in draws])))]
                           for k, v in point.items()}
    return {**out, "questions": int(len(yes))}


def scene_rows(split: str, part: str = "val", questions: int = 0, seed: int = 0,
               root: str | Path | None = None) -> Any:
    """A scenes split's questions of one part with each scene's image path (``questions``: a seeded few)."""
    import pandas as pd

    from steervis.data.scenes import SPLITS, built_root

    if split not in SPLITS:
        raise SteervisError(f"The scenes have splits {', '.join(SPLITS)}, not {split!r}.")
    if part not in PARTS:
        raise SteervisError(f"part must be val (choose settings here) or main (score a final model), not "
                            f"{part!r}.")
    root = built_root(split, root)
    scenes = pd.read_parquet(root / "scenes.parquet").set_index("index")
    rows = pd.read_parquet(root / "questions.parquet")
    rows = rows[rows["part"] == part].reset_index(drop=True)
    if questions:
        keep = np.sort(np.random.default_rng(seed).permutation(len(rows))[:questions])
        rows = rows.iloc[keep].reset_index(drop=True)
    return rows.assign(path=[str(root / scenes.at[s, "image"]) for s in rows["scene"]])


def scenes_accuracy(vlm: Any, split: str = "test-unseen", part: str = "val", questions: int = 0,
                    seed: int = 0, batch_size: int = 16, features: Any = None, suffix: str = SHORT_ANSWER,
                    root: str | Path | None = None) -> dict[str, Any]:
    """Greedy exact match per question type with 95 % intervals, and POPE per setting, on one part of a
    scenes split.

    Args:
        vlm: A :class:`~steervis.llava.model.VLM`.
        split: A scenes split.
        part: ``val`` or ``main``.
        questions: A seeded subset of that many questions (0: all).
        features: A feature cache for steervis' own tower (default: the tower's cache).
        suffix: The response-format prompt after each question.
    """
    rows = scene_rows(split, part, questions, seed, root)
    visuals = shown(vlm, rows["path"].tolist(), features)
    asked = [f"{q}\n{suffix}".strip() for q in rows["question"]]
    answers = vlm.ask(visuals, asked, max_new_tokens=6, batch_size=batch_size)  # one-word answers
    right = np.array([normalise(a) == str(g).lower() for a, g in zip(answers, rows["answer"], strict=True)])
    types = rows["type"].to_numpy()
    by_type = {}
    for kind in sorted(set(types)):
        mean, low, high = accuracy_ci(right[types == kind])
        by_type[kind] = {"accuracy": round(mean, 4), "ci95": [round(low, 4), round(high, 4)],
                         "questions": int((types == kind).sum())}
    exists = (types == "exists")
    yes = np.array([said_yes(a) for a in answers])
    gold = (rows["answer"] == "yes").to_numpy()
    settings = rows["setting"].to_numpy()
    pope = {s: _pope_with_ci(yes[exists & (settings == s)], gold[exists & (settings == s)])
            for s in SETTINGS if (exists & (settings == s)).any()}
    mean, low, high = accuracy_ci(right)
    return {"split": split, "part": part, "questions": len(rows), "scenes": int(rows["scene"].nunique()),
            "accuracy": round(mean, 4), "ci95": [round(low, 4), round(high, 4)], "by_type": by_type,
            "pope": pope,
            "examples": [{"question": q, "gold": str(g), "answer": a} for q, g, a in
                         zip(rows["question"][:8], rows["answer"][:8], answers[:8], strict=True)]}
