"""vlm-sweep and vlm-probe on tiny models and the toy set: shapes, intervals, and the subset shortcut."""

import numpy as np
import pytest

from steervis.data import make_toy_dataset
from steervis.studies import STUDIES
from steervis.studies.vlm import probe_dg, subsets


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return str(make_toy_dataset(tmp_path_factory.mktemp("toy"), per_class=3))


def test_sweep_scores_every_size_on_the_same_images(toy, tmp_home):
    out = STUDIES.get("vlm-sweep")(model="tiny-llava", matcher="tiny-clip", sizes=[2, 3], draws=2,
                                      data=toy)
    two, three = out["sizes"]["2"], out["sizes"]["3"]
    assert three["items"] == out["images"]  # the full label space: every image, drawn once
    assert two["chance"] == 50.0 and two["items"] < 2 * out["images"]
    for row in (two, three):
        acc, lo, hi = row["vlm_score"]
        assert 0 <= lo <= acc <= hi <= 100 and len(row["vlm - matcher"]) == 3


def test_probe_reads_three_feature_sets_per_held_out_domain(toy, tmp_home):
    out = STUDIES.get("vlm-probe")(model="tiny-vlm", data=toy)
    assert out["dims"]["vision_input"] == 16 * 320 and out["dims"]["lm_last_hidden"] == 16
    for name in ("lm_last_hidden", "vision_input", "efficientnet_pooled"):
        assert set(out[name]) == {"photo", "sketch", "mean"}


def test_probe_separates_separable_features():
    import pandas as pd

    frame = pd.DataFrame({"domain": ["a"] * 6 + ["b"] * 6, "class": ["x", "y"] * 6})
    feats = np.array([[1.0, 0.0] if c == "x" else [0.0, 1.0] for c in frame["class"]])
    assert probe_dg(feats, frame)["mean"] == 100.0
    assert subsets(5, [5], draws=3, seed=0) == {5: [[0, 1, 2, 3, 4]]}
