"""Tiny fixtures for steervis.llava: a fake tower (no weights), a few generated images, a tiny-llama VLM."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from steervis.llava.tower import TOWERS, TowerSpec


class FakeTower:
    """Visual tokens from pixel statistics: deterministic, informative (colour), and instant."""

    layers = ("blocks",)
    model_help = ""
    preprocess = "4px"

    def __init__(self, spec=None):
        self.spec = spec or TowerSpec(name="fake", grid=4)

    @staticmethod
    def dim(spec):
        return 320  # efficientnet-lite0's width, so tests can hand the VLM torch.randn(16, 320) features

    def encode(self, images):
        out = []
        for img in images:
            arr = np.asarray(img.convert("RGB").resize((4, 4)), dtype=np.float32) / 255.0  # [4, 4, 3]
            cells = torch.from_numpy(arr.reshape(16, 3))
            out.append(cells.repeat(1, self.spec.dim // 3 + 1)[:, : self.spec.dim])
        return torch.stack(out)


if "fake" not in TOWERS:  # registered like any tower, so a saved tiny VLM (tower "fake") loads again
    TOWERS.register("fake", FakeTower, help="pixel statistics (tests)")

COLOURS = {"red": (220, 20, 20), "blue": (20, 20, 220), "green": (20, 200, 20)}


@pytest.fixture
def colour_images(tmp_path):
    """Six small PNGs, two per colour: ``[(path, colour)]``."""
    rows = []
    for k, (name, rgb) in enumerate(list(COLOURS.items()) * 2):
        path = tmp_path / f"{name}-{k}.png"
        Image.new("RGB", (24, 24 + k), rgb).save(path)
        rows.append((path, name))
    return rows


@pytest.fixture
def fake_tower():
    return FakeTower()


@pytest.fixture
def make_vlm(fake_tower):
    """A fresh steervis LLaVA on tiny-llama (random, seeded: two calls give the same weights)."""
    from steervis.llava import VLM, VLMConfig

    return lambda: VLM.create(VLMConfig(lm="tiny-llama", tower="fake"), tower=fake_tower)


@pytest.fixture
def tiny_vlm(make_vlm):
    return make_vlm()
