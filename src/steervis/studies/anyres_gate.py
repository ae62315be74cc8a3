"""Is AnyRes worth training a VLM with? Linear probes on the scenes' small objects, read three ways.

    steervis study anyres-gate --set train=3000 --set split=test-unseen

The same tower (efficientnet-lite0 by default) reads each scene three ways, all with a 4×4 map over the image
(``grid=4``):

* ``224``: the default tower, the image padded and resized to 224 px, pooled 4×4: 16 tokens;
* ``448``: the whole image at 448 px, pooled 4×4: 16 tokens, the token-matched single image;
* ``anyres``: 2×2 tiles of 224 px, each pooled 2×2 into a 4×4 merged map, and a 2×2 thumbnail: 20 tokens
  (the scenes are square, so AnyRes always picks 2×2; :mod:`steervis.llava.anyres`).

Probes follow ``steervis study scene-probes`` (standard scaling, logistic regression, C = 0.1), trained on
``train`` seeded scenes of the train split's main part and scored on ``split``'s ``part`` (``val``: where a
setting is chosen), on small objects only: a box whose area is at most ``small`` of the canvas' (1/8; the
scenes draw objects of 18–45 % of the side, so 1/8 of the *side* would keep about 0.1 % of them, while 1/8 of
the area keeps about 80 % and leaves the large ones out; 1/16 keeps about 40 %):

* ``colour``: the colour of every small object whose colour the scene knows, from the mean of the map cells
  its box overlaps (the thumbnail left out: every setting reads the same 4×4 cells);
* ``count``: the number of objects of scenes whose objects are all small, from every token.

The verdict compares ``anyres`` with the token-matched ``448`` on the same items (a paired 95 % interval of
the difference): ``anyres`` where it is above zero, ``448`` where below, ``tie`` otherwise. On a CNN the two
differ only at tile borders and in the thumbnail, so a tie is the expected answer; a ViT tower with a fixed
input size is where tiles matter. Each setting also reports its tokens per image and the seconds its tower
takes per image (``timing`` images, after one to warm up; the feature cache does not count).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from steervis.errors import SteervisError
from steervis.studies.scene_probes import PROBE_C, _split, cell_mean

SMALL = 0.125  # a small object: its box covers at most an eighth of the canvas' area


def token_map(tokens: np.ndarray, spec: Any, canvas: int) -> np.ndarray:
    """The tokens laid over the image, row-major: the whole grid, or AnyRes' merged map of a square image."""
    if not spec.anyres:
        return tokens
    from steervis.llava.anyres import TILE, merged_map, pick_grid

    if pick_grid((canvas, canvas), spec.size or TILE) != (2, 2):  # a canvas under a tile fits 1 × 2 best
        raise SteervisError(f"AnyRes reads a {canvas} px scene as {pick_grid((canvas, canvas))} tiles, not "
                            "2 × 2 over the image: the gate needs a canvas larger than one tile.")
    return merged_map(tokens, spec.grid, 2, 2)[1]


def examples(root: Path, part: str, scenes: int | None, seed: int, cache: Any, spec: Any, canvas: int,
             small: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per probe, ``(x, y)`` over the small objects of a split's part (see the module)."""
    from steervis.data.images import sha256_file

    frame, objects, _ = _split(root, part, scenes, seed)
    files = [str(root / p) for p in frame["image"]]
    cached = cache.features([sha256_file(f) for f in files], files)
    tokens = {k: np.asarray(v, dtype=np.float32) for k, v in zip(frame["index"], cached, strict=True)}
    is_small = objects["w"] * objects["h"] <= small * canvas * canvas
    coloured = objects[is_small & objects["colour"].map(lambda c: isinstance(c, str))]
    colour_x = [cell_mean(token_map(tokens[s], spec, canvas), (x, y, w, h), canvas)
                for s, x, y, w, h in zip(*(coloured[c] for c in ("scene", "x", "y", "w", "h")), strict=True)]
    all_small = is_small.groupby(objects["scene"]).all()
    counted = [s for s in frame["index"] if all_small.get(s, False)]
    sizes = objects.groupby("scene").size()
    dim = next(iter(tokens.values())).size if tokens else 0
    return {"colour": (np.stack(colour_x) if colour_x else np.zeros((0, dim // spec.tokens)),
                       coloured["colour"].to_numpy()),
            "count": (np.stack([tokens[s].ravel() for s in counted]) if counted else np.zeros((0, dim)),
                      np.array([str(sizes[s]) for s in counted]))}


def encode_seconds(tower: Any, images: list[Any]) -> float:
    """Seconds per image of ``tower.encode`` on ``images`` (after one image to warm up)."""
    if not images:
        return float("nan")
    tower.encode(images[:1])
    start = time.perf_counter()
    tower.encode(images)
    return (time.perf_counter() - start) / len(images)


def run_gate(towers: dict[str, Any], train_root: Path, test_root: Path, part: str = "val", train: int = 3000,
             seed: int = 0, small: float = SMALL, timing: int = 4) -> dict[str, Any]:
    """The gate on built towers (``{"224": ..., "448": ..., "anyres": ...}``); their features are cached."""
    import json

    from PIL import Image
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from steervis.llava.tower import FeatureCache
    from steervis.stats import accuracy_ci, paired_difference_ci, percent

    canvas = json.loads((test_root / "build.json").read_text())["canvas"]
    frame = _split(test_root, part, timing, seed)[0]
    sample = [Image.open(test_root / p).convert("RGB") for p in frame["image"]]
    out: dict[str, Any] = {"part": part, "train_scenes": train,
                           "small": f"box area <= {small:g} of the canvas area", "settings": {}}
    correct = {}
    for name, tower in towers.items():
        cache = FeatureCache(tower)
        fit = examples(train_root, "main", train, seed, cache, tower.spec, canvas, small)
        scored = examples(test_root, part, None, seed, cache, tower.spec, canvas, small)
        row: dict[str, Any] = {"tower": tower.spec.id, "tokens": tower.spec.tokens,
                               "encode_s_per_image": round(encode_seconds(tower, sample), 4)}
        for kind, (x, y) in fit.items():
            test_x, test_y = scored[kind]
            if len(set(y)) < 2 or not len(test_y):
                raise SteervisError(f"Too few small objects for the {kind} probe ({len(y)} to train on, "
                                    f"{len(test_y)} to score): raise train or small.")
            probe = make_pipeline(StandardScaler(), LogisticRegression(C=PROBE_C, max_iter=3000,
                                                                       random_state=seed))
            correct[name, kind] = probe.fit(x, y).predict(test_x) == test_y
            row[kind] = {"accuracy": percent(accuracy_ci(correct[name, kind])), "train": len(y),
                         "questions": len(test_y)}
        out["settings"][name] = row
    diff = {k: percent(paired_difference_ci(correct["anyres", k], correct["448", k])) for k in fit}
    verdict = {k: "anyres" if lo > 0 else "448" if hi < 0 else "tie" for k, (_, lo, hi) in diff.items()}
    out.update(anyres_minus_448=diff, verdict=verdict,
               anyres_beats_448=any(v == "anyres" for v in verdict.values())
               and all(v != "448" for v in verdict.values()))
    return out


def gate_towers(tower: str = "efficientnet-lite0", grid: int = 4) -> dict[str, Any]:
    """The three settings' towers (see the module): ``grid`` is the map's side, so AnyRes' tiles take half."""
    from steervis.llava.tower import TowerSpec, build_tower

    if grid % 2:
        raise SteervisError(f"grid={grid} must be even: 2 × 2 AnyRes tiles of grid/2 make the map.")
    specs = {"224": TowerSpec(tower, grid=grid), "448": TowerSpec(tower, grid=grid, size=448),
             "anyres": TowerSpec(tower, grid=grid // 2, anyres=True)}
    return {name: build_tower(spec) for name, spec in specs.items()}


def anyres_gate(tower: str = "efficientnet-lite0", grid: int = 4, split: str = "test-unseen",
                part: str = "val", train: int = 3000, seed: int = 0, small: float = SMALL,
                timing: int = 4) -> dict[str, Any]:
    """``steervis study anyres-gate``: colour and count probes on small scene objects, AnyRes vs the image at
    448 px vs 224 px, 95 % intervals, and whether AnyRes beats the token-matched 448 px image."""
    from steervis.data.scenes import built_root

    roots = {s: built_root(s) for s in ("train", split)}
    out = {"tower": tower, "split": split}
    return out | run_gate(gate_towers(tower, grid), roots["train"], roots[split], part, train, seed, small,
                          timing)
