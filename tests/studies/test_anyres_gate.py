"""The AnyRes gate probes small objects only, reads the map cells in each setting, and reports a verdict."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image, ImageDraw

from steervis.llava.anyres import AnyResTower
from steervis.llava.tower import TowerSpec
from steervis.studies.anyres_gate import examples, run_gate, token_map

CANVAS = 64
COLOURS = {"red": (230, 20, 20), "blue": (20, 20, 230)}


class _Pixels:
    """A tower whose tokens are each grid cell's mean colour (efficientnet-lite0's spec: no weights read)."""

    def __init__(self, spec):
        self.spec = spec

    def encode(self, images):
        grid, dim = self.spec.grid, self.spec.dim
        cells = [np.asarray(img.convert("RGB").resize((grid, grid), Image.Resampling.BOX), dtype=np.float32)
                 for img in images]
        flat = torch.from_numpy(np.stack(cells).reshape(len(images), grid * grid, 3) / 255.0)
        return flat.repeat(1, 1, dim // 3 + 1)[:, :, :dim]


def _towers():
    return {"224": _Pixels(TowerSpec(grid=4)), "448": _Pixels(TowerSpec(grid=4, size=448)),
            # tiles of 32 px: a 64 px canvas is 2 × 2 of them (under one tile, 1 × 2 would fit best)
            "anyres": AnyResTower(TowerSpec(grid=2, size=32, anyres=True),
                                  _Pixels(TowerSpec(grid=2, size=32)))}


def _scenes(root, n, part, seed):
    """``n`` scenes: one small square (a sixteenth of the canvas) of a random colour in a random cell, a
    second one in every fourth scene, and a large grey one in every third (so that scene is not counted)."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    scenes, objects = [], []
    for i in range(n):
        img = Image.new("RGB", (CANVAS, CANVAS), "white")
        draw = ImageDraw.Draw(img)
        colour = str(rng.choice(list(COLOURS)))
        x, y = (int(v) * 16 for v in rng.integers(0, 4, 2))
        draw.rectangle((x, y, x + 15, y + 15), fill=COLOURS[colour])
        objects.append({"scene": i, "object": 0, "colour": colour, "x": x, "y": y, "w": 16, "h": 16})
        if i % 4 == 1:  # a second small one, two cells to the right
            other = str(rng.choice(list(COLOURS)))
            draw.rectangle(((x + 32) % 64, y, (x + 32) % 64 + 15, y + 15), fill=COLOURS[other])
            objects.append({"scene": i, "object": 2, "colour": other, "x": (x + 32) % 64, "y": y, "w": 16,
                            "h": 16})
        if i % 3 == 0:
            objects.append({"scene": i, "object": 1, "colour": "grey", "x": 0, "y": 0, "w": 40, "h": 40})
        img.save(root / "images" / f"{i}.png")
        scenes.append({"index": i, "part": part, "image": f"images/{i}.png"})
    pd.DataFrame(scenes).to_parquet(root / "scenes.parquet")
    pd.DataFrame(objects).to_parquet(root / "objects.parquet")
    pd.DataFrame({"scene": [0], "type": ["count"], "answer": ["1"]}).to_parquet(root / "questions.parquet")
    (root / "build.json").write_text(json.dumps({"canvas": CANVAS}))
    return root


def test_only_small_objects_and_all_small_scenes_are_probed(tmp_home, tmp_path):
    root = _scenes(tmp_path / "s", 6, "main", 0)
    tower = _towers()["448"]
    from steervis.llava.tower import FeatureCache

    got = examples(root, "main", None, 0, FeatureCache(tower), tower.spec, CANVAS, small=0.125)
    assert "grey" not in set(got["colour"][1]) and len(got["colour"][1]) == 8  # the 40 × 40 box is large
    assert got["colour"][0].shape == (8, 320)  # one cell's mean per small object
    assert got["count"][0].shape == (4, 16 * 320)  # scenes 1, 2, 4, 5: no large object
    assert got["count"][1].tolist() == ["2", "1", "1", "2"]
    everything = examples(root, "main", None, 0, FeatureCache(tower), tower.spec, CANVAS, small=1.0)
    assert len(everything["colour"][1]) == 10 and len(everything["count"][1]) == 6


def test_the_anyres_map_is_the_merged_tiles():
    from steervis.errors import SteervisError

    spec = TowerSpec(grid=2, anyres=True)
    tokens = np.arange(20, dtype=float).reshape(20, 1)
    assert token_map(tokens, spec, 320)[:, 0].tolist() == list(range(4, 20))  # the thumbnail left out
    plain = tokens[:16]
    assert token_map(plain, TowerSpec(grid=4), 320) is plain  # a plain grid is the map itself
    with pytest.raises(SteervisError, match="needs a canvas larger than one tile"):
        token_map(tokens, spec, 200)


def test_the_gate_reports_each_setting_and_a_verdict(tmp_home, tmp_path):
    train = _scenes(tmp_path / "train", 24, "main", 1)
    test = _scenes(tmp_path / "test", 12, "val", 2)
    out = run_gate(_towers(), train, test, part="val", train=20, timing=2)
    assert list(out["settings"]) == ["224", "448", "anyres"]
    assert [s["tokens"] for s in out["settings"].values()] == [16, 16, 20]
    assert out["settings"]["anyres"]["tower"] == "efficientnet-lite0-blocks-g2-224pad-s32-anyres"
    for row in out["settings"].values():
        assert row["encode_s_per_image"] >= 0 and row["colour"]["questions"] == 15
        assert row["colour"]["train"] > 20 and row["count"]["questions"] == 8
        low, point, high = sorted(row["colour"]["accuracy"])
        assert 0 <= low <= point <= high <= 100
    assert out["settings"]["anyres"]["colour"]["accuracy"][0] == 100.0  # a colour in its own cells: easy
    assert set(out["verdict"]) == {"colour", "count"} and out["verdict"]["colour"] in {"anyres", "448", "tie"}
    assert isinstance(out["anyres_beats_448"], bool)


def test_an_odd_grid_is_one_sentence():
    from steervis.errors import SteervisError
    from steervis.studies.anyres_gate import gate_towers

    with pytest.raises(SteervisError, match="must be even"):
        gate_towers(grid=3)
