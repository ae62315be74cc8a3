"""The scene probes read each coloured object's own grid cells and every token for counting."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from steervis.studies.scene_probes import _examples, cell_mean

CANVAS = 100  # a 2 × 2 grid of 50 px cells


class _Tokens:
    """A feature cache whose token k of image i is [i, k] (so a mean says which cells it read)."""

    def features(self, keys, paths):
        return [np.array([[int(p.split("/")[-1][0]), k] for k in range(4)], dtype=float) for p in paths]


def _root(tmp_path):
    for i in range(2):
        (tmp_path / f"{i}.png").write_bytes(bytes([i]))
    pd.DataFrame({"index": [0, 1], "part": ["main", "main"], "image": ["0.png", "1.png"]}).to_parquet(
        tmp_path / "scenes.parquet")
    pd.DataFrame([{"scene": 0, "object": 0, "colour": "red", "x": 0, "y": 0, "w": 10, "h": 10},
                  {"scene": 0, "object": 1, "colour": None, "x": 60, "y": 60, "w": 10, "h": 10},
                  {"scene": 1, "object": 0, "colour": "blue", "x": 60, "y": 0, "w": 30, "h": 90}]).to_parquet(
        tmp_path / "objects.parquet")
    pd.DataFrame([{"scene": 0, "type": "count", "answer": "2", "objects": json.dumps([0, 1])},
                  {"scene": 1, "type": "count", "answer": "1", "objects": json.dumps([0])},
                  {"scene": 1, "type": "colour", "answer": "blue", "objects": json.dumps([0])}]).to_parquet(
        tmp_path / "questions.parquet")
    return tmp_path


def test_colour_reads_the_objects_cells_and_count_every_token(tmp_path):
    root = _root(tmp_path)
    train = _examples(root, "main", None, 0, _Tokens(), CANVAS, every_object=True)
    assert train["colour"][1].tolist() == ["red", "blue"]  # every object whose colour is known
    assert train["colour"][0].tolist() == [[0, 0], [1, 2]]  # top-left cell; the right column's two cells
    assert train["count"][0].shape == (2, 8) and train["count"][1].tolist() == ["2", "1"]
    asked = _examples(root, "main", None, 0, _Tokens(), CANVAS, every_object=False)
    assert asked["colour"][1].tolist() == ["blue"]  # only the colour questions' objects are scored


def test_a_box_on_a_cell_border_reads_only_the_cells_it_covers():
    tokens = np.arange(16, dtype=float).reshape(16, 1)  # 4 × 4 cells of 80 px on a 320 canvas
    assert cell_mean(tokens, (80, 0, 80, 80), 320).tolist() == [1.0]
    assert cell_mean(tokens, (300, 300, 40, 40), 320).tolist() == [15.0]  # clipped at the canvas edge
