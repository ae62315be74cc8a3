"""What a VLM's visual tokens hold about the scenes, read by linear probes: the ceiling its answers can reach.

    steervis study scene-probes --set model=stage2 --set split=test-unseen --set train=3000

Two of the scenes' question types have a probe form, each trained on the ``train`` split's main part and
scored on the same questions the VLM answers (a split's ``main`` or ``val`` part):

* ``count`` ("How many objects are there?"): a probe on every token of the image, the count as its class;
* ``colour`` ("What colour is the X?"): a probe on the mean of the tokens whose grid cells X's box overlaps,
  the colour as its class (the question names X; the probe is shown where X is instead).

Position and existence questions have no such form (which object, which name), so they have no ceiling here.
The tokens are the model's tower's, as cached for training and evaluation (the tower is frozen in both
stages, so every model on one tower has one ceiling: the output names the tower).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from steervis.errors import SteervisError

PROBE_C = 0.1  # the same regularisation as the easy-vqa colour probes


def cell_mean(tokens: np.ndarray, box: tuple[float, float, float, float], canvas: int) -> np.ndarray:
    """Mean of the row-major ``[grid², dim]`` tokens whose cells the box ``(x, y, w, h)`` overlaps.

    >>> tokens = np.arange(4, dtype=float).reshape(4, 1)  # a 2 × 2 grid
    >>> cell_mean(tokens, (0, 0, 10, 10), 100).tolist(), cell_mean(tokens, (40, 60, 30, 30), 100).tolist()
    ([0.0], [2.5])
    """
    grid = int(round(len(tokens) ** 0.5))
    cell = canvas / grid
    x, y, w, h = box
    cols = range(int(x // cell), min(grid - 1, int((x + w - 1e-6) // cell)) + 1)
    rows = range(int(y // cell), min(grid - 1, int((y + h - 1e-6) // cell)) + 1)
    return tokens[[r * grid + c for r in rows for c in cols]].mean(axis=0)


def _split(root: Path, part: str, scenes: int | None, seed: int) -> tuple[Any, Any, Any]:
    """A split part's scenes (``scenes`` seeded ones, ``None``: all), its objects and its questions."""
    import pandas as pd

    frame = pd.read_parquet(root / "scenes.parquet")
    frame = frame[frame["part"] == part]
    if scenes:
        frame = frame.iloc[np.sort(np.random.default_rng(seed).permutation(len(frame))[:scenes])]
    keep = set(frame["index"])
    objects = pd.read_parquet(root / "objects.parquet")
    questions = pd.read_parquet(root / "questions.parquet")
    return (frame, objects[objects["scene"].isin(keep)], questions[questions["scene"].isin(keep)])


def _examples(root: Path, part: str, scenes: int | None, seed: int, features: Any, canvas: int,
              every_object: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per probe, ``(x, y)``: the count questions (all tokens) and coloured objects (their cells' mean):
    ``every_object`` (training: every object whose colour the scene knows) or the colour questions' own."""
    import json

    from steervis.data.images import sha256_file

    frame, objects, questions = _split(root, part, scenes, seed)
    files = [str(root / p) for p in frame["image"]]
    cached = features.features([sha256_file(f) for f in files], files)
    tokens = {k: np.asarray(v, dtype=np.float32) for k, v in zip(frame["index"], cached, strict=True)}
    count = questions[questions["type"] == "count"]
    if every_object:
        known = objects[objects["colour"].map(lambda c: isinstance(c, str))]
        targets = list(zip(known["scene"], known["object"], known["colour"], strict=True))
    else:
        asked = questions[questions["type"] == "colour"]
        first = [int(json.loads(o)[0] if isinstance(o, str) else o[0]) for o in asked["objects"]]
        targets = list(zip(asked["scene"], first, asked["answer"], strict=True))
    boxes = objects.set_index(["scene", "object"])[["x", "y", "w", "h"]]
    colour_x = [cell_mean(tokens[s], tuple(boxes.loc[(s, o)]), canvas) for s, o, _ in targets]
    return {"count": (np.stack([tokens[s].ravel() for s in count["scene"]]), count["answer"].to_numpy()),
            "colour": (np.stack(colour_x), np.array([c for _, _, c in targets]))}


def scene_probes(model: str = "stage2", split: str = "test-unseen", part: str = "main", train: int = 3000,
                 seed: int = 0) -> dict[str, Any]:
    """``steervis study scene-probes``: count and colour probes trained on ``train`` seeded training scenes,
    scored (95 % intervals) on ``split``'s ``part``, the questions the VLM answers there."""
    import json

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from steervis.data.scenes import built_root
    from steervis.llava.tower import FeatureCache
    from steervis.llava.vlms import open_vlm
    from steervis.stats import accuracy_ci, percent

    roots = {s: built_root(s) for s in ("train", split)}
    vlm = open_vlm(model)
    if vlm.tower is None:
        raise SteervisError(f"{model} has no tower of steervis' own whose tokens could be probed.")
    features = FeatureCache(vlm.tower)
    canvas = json.loads((roots[split] / "build.json").read_text())["canvas"]
    fit = _examples(roots["train"], "main", train, seed, features, canvas, every_object=True)
    scored = _examples(roots[split], part, None, seed, features, canvas, every_object=False)
    out: dict[str, Any] = {"model": model, "tower": vlm.tower.spec.id, "split": split, "part": part,
                           "train_scenes": train}
    for kind, (x, y) in fit.items():
        probe = make_pipeline(StandardScaler(), LogisticRegression(C=PROBE_C, max_iter=3000,
                                                                   random_state=seed))
        probe.fit(x, y)
        test_x, test_y = scored[kind]
        out[kind] = {"accuracy": percent(accuracy_ci(probe.predict(test_x) == test_y)), "train": len(y),
                     "questions": len(test_y)}
    return out
