"""Paired differences between two methods of a finished run, per domain and for the DG mean."""

import numpy as np
import pandas as pd
import pytest

from steervis.errors import SteervisError
from steervis.eval.paired import bench_paired, paired_differences


def predictions(right_a, right_b, domains):
    rows = []
    for method, right in (("a", right_a), ("b", right_b)):
        for i, (ok, domain) in enumerate(zip(right, domains, strict=True)):
            rows.append({"method": method, "domain": domain, "path": f"{domain}/{i}.png", "class": "cat",
                         "pred": "cat" if ok else "dog"})
    return pd.DataFrame(rows)


def test_differences_are_paired_per_image_and_averaged_over_domains():
    rng = np.random.default_rng(0)
    right_b = rng.random(200) < 0.5
    right_a = right_b.copy()
    right_a[:100] |= True  # a fixes b's misses on domain x only
    domains = ["x"] * 100 + ["y"] * 100
    out = paired_differences(predictions(right_a, right_b, domains), "a", "b")
    gain_x = 100 * (right_a[:100].mean() - right_b[:100].mean())
    assert out["domains"]["x"][0] == round(gain_x, 1) and out["domains"]["x"][1] > 0  # significant: never worse
    assert out["domains"]["y"] == [0.0, 0.0, 0.0]  # identical answers: a zero-width paired interval
    assert out["mean"][0] == round(gain_x / 2, 1) and out["mean"][1] <= out["mean"][0] <= out["mean"][2]
    assert out["images"] == {"x": 100, "y": 100}
    # a is compared with b image by image: shuffling the rows of one method changes nothing
    preds = predictions(right_a, right_b, domains)
    assert paired_differences(preds.sample(frac=1, random_state=1), "a", "b") == out


def test_unpaired_runs_and_missing_methods_are_explained(tmp_path):
    preds = predictions([1, 0], [1, 1], ["x", "x"])
    with pytest.raises(SteervisError, match="the same held-out images"):
        paired_differences(preds[~((preds["method"] == "b") & (preds["path"] == "x/1.png"))], "a", "b")
    with pytest.raises(SteervisError, match="finished"):
        bench_paired(run=str(tmp_path), a="a", b="b")
    preds.to_parquet(tmp_path / "predictions.parquet")
    with pytest.raises(SteervisError, match="No predictions of 'c'"):
        bench_paired(run=str(tmp_path), a="a", b="c")
    out = bench_paired(run=str(tmp_path), a="a", b="b,a")
    assert [p["b"] for p in out["pairs"]] == ["b", "a"] and out["pairs"][1]["mean"] == [0.0, 0.0, 0.0]


def test_methods_of_two_runs_are_paired_and_a_method_in_both_is_refused(tmp_path):
    preds = predictions([1, 1, 0], [0, 1, 0], ["x", "x", "x"])
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    preds[preds["method"] == "a"].to_parquet(tmp_path / "one" / "predictions.parquet")
    preds[preds["method"] == "b"].to_parquet(tmp_path / "two" / "predictions.parquet")
    out = bench_paired(run=f"{tmp_path / 'one'},{tmp_path / 'two'}", a="a", b="b")
    assert out["pairs"][0] == paired_differences(preds, "a", "b") and out["pairs"][0]["domains"]["x"][0] == 33.3
    preds.to_parquet(tmp_path / "two" / "predictions.parquet")  # now the second run has a as well
    with pytest.raises(SteervisError, match="'a' is in both"):
        bench_paired(run=f"{tmp_path / 'one'},{tmp_path / 'two'}", a="a", b="b")
