"""Tiny fixtures for STIC: a scripted VLM (no weights), toy training scenes with known contents, and the
tiny steervis LLaVA opened by name through the zoo."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from PIL import Image

from steervis.stic.pairs import GOOD_PROMPT

# scene index → (objects as (name, colour or None), part); scenes 6 and 7 are the validation tenth
SCENES = {0: ([("apple", "red"), ("dog", None)], "main"), 1: ([("moon", "yellow")], "main"),
          2: ([("apple", "green"), ("apple", "green"), ("cat", "black")], "main"),
          3: ([("dog", "brown"), ("moon", None)], "main"), 4: ([("cat", None)], "main"),
          5: ([("moon", "yellow"), ("dog", "brown")], "main"), 6: ([("apple", "red")], "val"),
          7: ([("cat", "black")], "val")}
RGB = {"red": (220, 20, 20), "green": (20, 200, 20), "yellow": (230, 220, 30), "black": (10, 10, 10),
       "brown": (120, 70, 20), None: (128, 128, 128)}


@pytest.fixture
def toy_scenes(tmp_path):
    """A train split's folder: scenes.parquet, objects.parquet and one small PNG per scene (a stripe per
    object, so a downscaled copy differs from it)."""
    root = tmp_path / "scenes-train"
    (root / "images").mkdir(parents=True)
    scenes, objects = [], []
    for index, (objs, part) in SCENES.items():
        img = Image.new("RGB", (64, 48), (255, 255, 255))
        for k, (name, colour) in enumerate(objs):
            img.paste(RGB[colour], (8 + 16 * k, 4, 14 + 16 * k, 44))
            objects.append({"scene": index, "part": part, "kind": "train", "object": k, "name": name,
                            "colour": colour})
        img.save(root / "images" / f"{index:06d}.png")
        scenes.append({"index": index, "part": part, "kind": "train", "image": f"images/{index:06d}.png",
                       "caption": "", "objects": len(objs)})
    pd.DataFrame(scenes).to_parquet(root / "scenes.parquet", index=False)
    pd.DataFrame(objects).to_parquet(root / "objects.parquet", index=False)
    return root


class ScriptedVLM:
    """Writes the true contents under the good prompt and ``bad`` otherwise; records every call."""

    def __init__(self, good: dict[str, str], bad: str = "a cat and a blue moon"):
        self.good, self.bad, self.calls = good, bad, []

    def ask(self, images, questions, **options):
        self.calls.append((list(images), list(questions), options))
        return [self.good.get(str(img), "a thing") if q == GOOD_PROMPT else self.bad
                for img, q in zip(images, questions, strict=True)]


@pytest.fixture
def scripted():
    return ScriptedVLM


@pytest.fixture(scope="session")
def _tiny_vlm():
    from steervis.zoo.vlms import open_vlm

    return open_vlm("tiny-vlm")


@pytest.fixture
def tiny_vlm(_tiny_vlm):
    """steervis' LLaVA on tiny-llama (random), opened by name as STIC opens its model; a fresh copy per
    test."""
    return copy.deepcopy(_tiny_vlm)
