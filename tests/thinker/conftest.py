"""Hand-made scene tables for the thinker: a train split's objects and scenes, no images needed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

BOX = 40  # every object's box is this many pixels wide and high
NAMES = ["apple", "dog", "moon", "cat", "owl", "fox", "star", "tree"]


def write_split(root, objects: list[tuple], captions: dict[int, str], parts: dict[int, str] | None = None,
                split: str | None = None):
    """``objects``: (scene, name, x, y, area); every box is BOX wide and high. ``parts``: scene → part."""
    parts = parts or {}
    root.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([{"scene": s, "part": parts.get(s, "main"), "kind": "train", "object": i,
                           "name": n, "colour": None, "area": a, "x": x, "y": y, "w": BOX, "h": BOX}
                          for i, (s, n, x, y, a) in enumerate(objects)])
    frame.to_parquet(root / "objects.parquet")
    pd.DataFrame({"index": sorted(captions), "part": [parts.get(s, "main") for s in sorted(captions)],
                  "image": [f"images/{s:06d}.png" for s in sorted(captions)],
                  "caption": [captions[s] for s in sorted(captions)]}).to_parquet(root / "scenes.parquet")
    if split:
        (root / "build.json").write_text(f'{{"split": "{split}"}}')
    return root


@pytest.fixture
def make_split():
    """:func:`write_split`, for a test that writes a split of its own."""
    return write_split


@pytest.fixture
def scenes(tmp_path):
    """0: three apples, a dog left of and above a big moon; 1: a cat and an owl level; 2 (val): a zebra and a
    fox; 3: a yak (held out in the tests) and a dog; 4: a chip and a potato chip."""
    objects = [(0, "apple", 10, 10, 900), (0, "apple", 60, 10, 900), (0, "apple", 110, 10, 900),
               (0, "dog", 20, 100, 800), (0, "moon", 220, 250, 3000),
               (1, "cat", 100, 100, 1000), (1, "owl", 110, 110, 1100),
               (2, "zebra", 10, 10, 900), (2, "fox", 200, 200, 3000), (2, "fox", 250, 200, 900),
               (3, "yak", 10, 10, 900), (3, "dog", 200, 200, 3000), (3, "dog", 100, 200, 900),
               (4, "chip", 10, 10, 900), (4, "potato chip", 250, 250, 3000)]
    captions = {0: "three apples, a dog and a moon.", 1: "a cat and an owl.", 2: "a zebra and two foxes.",
                3: "a yak and two dogs.", 4: "a chip and a potato chip."}
    return write_split(tmp_path / "train", objects, captions, parts={2: "val"})


@pytest.fixture
def crowd(tmp_path):
    """200 random scenes of 1–6 objects drawn from :data:`NAMES` (a tenth of them validation)."""
    rng = np.random.default_rng(0)
    objects, captions = [], {}
    for s in range(200):
        for _ in range(int(rng.integers(1, 7))):
            objects.append((s, NAMES[int(rng.integers(len(NAMES)))], int(rng.integers(0, 280)),
                            int(rng.integers(0, 280)), int(rng.integers(200, 4000))))
        captions[s] = f"scene {s}."
    return write_split(tmp_path / "crowd", objects, captions, parts={s: "val" for s in range(180, 200)})
