"""Are the preferred descriptions better? Checked against the training scenes' truth before any training.

On scenes whose objects and colours are known (:mod:`steervis.data.scenes`), each description is scored:

* CHAIR-style hallucination (Rohrbach et al. 2018): of the object names it mentions (any object name of the
  train split, matched by the project's "names the class" rule, :func:`steervis.classes.names_class`), the
  share the scene lacks (per mention, CHAIR_i), and whether it names any missing object (per description,
  CHAIR_s);
* object recall: the share of the scene's distinct object names it mentions;
* colour accuracy: of the scene's objects it names with a colour word just before the name ("a red apple",
  "two yellow lacrosses"), the share whose colour is right (objects of unknown colour are not counted).

Every number comes with a 95 % bootstrap interval over scenes, and so does the paired difference preferred −
dis-preferred (the same resampled scenes for both). The verdict is that the preferred descriptions are
better when the difference's interval lies on the better side of 0 for hallucination per mention, and on no
metric on the worse side.

>>> truth = [SceneTruth(["apple", "dog"], {"apple": {"red"}})]
>>> s = score_description("A red apple, a blue dog and a cat.", truth[0], ["apple", "dog", "cat"])
>>> s.mentions, s.hallucinated, s.recalled, s.colour_right, s.colour_stated
(3, 1, 2, 1, 1)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from steervis.classes import class_pattern, names_class
from steervis.stats import interval, resampled_rows

# The scenes' colour words: the tint hues and the ink rule's black and brown; white and grey are stated
# colours too (a scene never has them, so stating one is wrong).
COLOURS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "black", "brown", "white", "grey",
           "gray")
NEAR = 3  # words before a name that may carry its colour: "a big red apple", "two bright yellow suns"
# metric → (numerator, denominator) fields of DescriptionScore, and whether lower is better
METRICS = {"chair_i": ("hallucinated", "mentions", True), "chair_s": ("any_hallucinated", "one", True),
           "recall": ("recalled", "truth_names", False), "colour": ("colour_right", "colour_stated", False)}


@dataclass
class SceneTruth:
    """What a scene holds: its objects' names (repeats allowed) and each name's known colours."""

    names: list[str]
    colours: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class DescriptionScore:
    """Counts of one description against one scene (the metrics are ratios of their sums over scenes)."""

    mentions: int = 0
    hallucinated: int = 0
    recalled: int = 0
    truth_names: int = 0
    colour_right: int = 0
    colour_stated: int = 0
    one: int = 1

    @property
    def any_hallucinated(self) -> int:
        return int(self.hallucinated > 0)


def stated_colours(text: str, name: str) -> set[str]:
    """Colour words among the :data:`NEAR` words before each mention of ``name`` in ``text``."""
    found: set[str] = set()
    for match in class_pattern(name).finditer(text):
        before = re.findall(r"[a-z]+", text[: match.start()].lower())[-NEAR:]
        found |= {w for w in before if w in COLOURS}
    return found


def score_description(text: str, truth: SceneTruth, vocabulary: Sequence[str]) -> DescriptionScore:
    """Mentions, hallucinated mentions, recalled names and colours of one description."""
    present = set(truth.names)
    mentioned = [n for n in vocabulary if names_class(text, n)]
    score = DescriptionScore(mentions=len(mentioned), truth_names=len(present))
    score.hallucinated = sum(n not in present for n in mentioned)
    score.recalled = sum(n in mentioned for n in present)
    for name in present & set(mentioned):
        stated = stated_colours(text, name)
        if truth.colours.get(name) and stated:
            score.colour_stated += 1
            score.colour_right += int(bool(stated & truth.colours[name]))
    return score


def _ratios(scores: Sequence[DescriptionScore], rows: np.ndarray, num: str, den: str) -> np.ndarray:
    """The pooled ratio sum(num) / sum(den) on each resample of scenes (NaN where the denominator is 0)."""
    nums = np.array([getattr(s, num) for s in scores], dtype=np.float64)[rows].sum(axis=-1)
    dens = np.array([getattr(s, den) for s in scores], dtype=np.float64)[rows].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(dens > 0, nums / np.maximum(dens, 1), np.nan)


def _triple(values: np.ndarray, whole: float) -> list[float] | None:
    """(estimate, low, high), or ``None`` where nothing was counted (e.g. no colour stated at all)."""
    values = values[~np.isnan(values)]
    if np.isnan(whole) or not len(values):
        return None
    return [round(float(whole), 4), *(round(v, 4) for v in interval(values))]


def compare(preferred: Sequence[DescriptionScore], rejected: Sequence[DescriptionScore]) -> dict[str, Any]:
    """Each metric for both sides and their paired difference, with 95 % intervals; and the verdict."""
    n = len(preferred)
    rows, whole = resampled_rows(n), np.arange(n)[None]
    out: dict[str, Any] = {"scenes": n}
    better, worse = {}, False
    for metric, (num, den, lower_is_better) in METRICS.items():
        a, b = _ratios(preferred, rows, num, den), _ratios(rejected, rows, num, den)
        a0, b0 = _ratios(preferred, whole, num, den)[0], _ratios(rejected, whole, num, den)[0]
        diff = _triple(a - b, a0 - b0)
        sign = -1 if lower_is_better else 1
        better[metric] = diff is not None and min(sign * diff[1], sign * diff[2]) > 0
        worse |= diff is not None and max(sign * diff[1], sign * diff[2]) < 0
        out[metric] = {"preferred": _triple(a, a0), "dispreferred": _triple(b, b0), "difference": diff,
                       "preferred_better": better[metric]}
    out["verdict"] = "preferred better" if better["chair_i"] and not worse else "not shown better"
    return out


def scene_truths(indices: Sequence[int],
                 root: str | Path | None = None) -> tuple[list[SceneTruth], list[str]]:
    """The truth of train-split scenes by index, and the vocabulary: every object name of the split."""
    import pandas as pd

    from steervis.data.scenes import scenes_root

    objects = pd.read_parquet(Path(root or scenes_root("train")) / "objects.parquet")
    truths = []
    for index in indices:
        rows = objects[objects["scene"] == index]
        colours: dict[str, set[str]] = {}
        for name, colour in zip(rows["name"], rows["colour"], strict=True):
            if isinstance(colour, str):
                colours.setdefault(name, set()).add(colour)
        truths.append(SceneTruth(list(rows["name"]), colours))
    return truths, sorted(set(objects["name"]))


def gate(pairs: Sequence[Any], truths: Sequence[SceneTruth], vocabulary: Sequence[str]) -> dict[str, Any]:
    """Score each pair's two descriptions against its scene's truth and :func:`compare` them."""
    preferred = [score_description(p.chosen, t, vocabulary) for p, t in zip(pairs, truths, strict=True)]
    rejected = [score_description(p.rejected, t, vocabulary) for p, t in zip(pairs, truths, strict=True)]
    return compare(preferred, rejected)


def run_gate(vlm: Any, cfg: Any, progress: bool = True, root: str | Path | None = None) -> dict[str, Any]:
    """Pairs on ``cfg.gate_scenes`` seeded training scenes, scored against their truth (:func:`gate`); a few
    examples ride along, so a reader sees what was counted."""
    from steervis.stic.images import training_scenes
    from steervis.stic.pairs import make_pairs

    sources = training_scenes(cfg.gate_scenes, seed=cfg.seed, root=root)
    pairs = make_pairs(vlm, sources, cfg.max_new_tokens, cfg.temperature, cfg.batch_size, cfg.seed, progress)
    truths, vocabulary = scene_truths([s.scene for s in sources], root)
    examples = [{"scene": p.scene, "objects": t.names, "preferred": p.chosen, "dispreferred": p.rejected,
                 "how": p.how} for p, t in list(zip(pairs, truths, strict=True))[:3]]
    return {**gate(pairs, truths, vocabulary), "examples": examples}
