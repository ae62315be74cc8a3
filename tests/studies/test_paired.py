"""Paired differences between two methods of a finished run, per domain and for the DG mean."""

import numpy as np
import pandas as pd
import pytest

from steervis.errors import SteervisError
from steervis.studies.paired import paired_differences, study_paired


def predictions(right_a, right_b, domains):
    rows = []
    for method, right in (("a", right_a), ("b", right_b)):
        for i, (ok, domain) in enumerate(zip(right, domains, strict=True)):
            rows.append({"method": method, "domain": domain, "path": f"{domain}/{i}.png",
                         "sha256": f"{domain}{i}", "class": "cat", "pred": "cat" if ok else "dog"})
    return pd.DataFrame(rows)


def test_differences_are_paired_per_image_and_averaged_over_domains():
    rng = np.random.default_rng(0)
    right_b = rng.random(200) < 0.5
    right_a = right_b.copy()
    right_a[:100] |= True  # a fixes b's misses on domain x only
    domains = ["x"] * 100 + ["y"] * 100
    out = paired_differences(predictions(right_a, right_b, domains), "a", "b")
    gain_x = 100 * (right_a[:100].mean() - right_b[:100].mean())
    # significant: never worse
    assert out["domains"]["x"][0] == round(gain_x, 1) and out["domains"]["x"][1] > 0
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
        study_paired(run=str(tmp_path), a="a", b="b")
    preds.to_parquet(tmp_path / "predictions.parquet")
    with pytest.raises(SteervisError, match="No predictions of 'c'"):
        study_paired(run=str(tmp_path), a="a", b="c")
    out = study_paired(run=str(tmp_path), a="a", b="b,a")
    assert [p["b"] for p in out["pairs"]] == ["b", "a"] and out["pairs"][1]["mean"] == [0.0, 0.0, 0.0]


def test_methods_of_two_runs_are_paired_and_a_method_in_both_is_refused(tmp_path):
    preds = predictions([1, 1, 0], [0, 1, 0], ["x", "x", "x"])
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    preds[preds["method"] == "a"].to_parquet(tmp_path / "one" / "predictions.parquet")
    preds[preds["method"] == "b"].to_parquet(tmp_path / "two" / "predictions.parquet")
    out = study_paired(run=f"{tmp_path / 'one'},{tmp_path / 'two'}", a="a", b="b")
    assert (out["pairs"][0] == paired_differences(preds, "a", "b")
            and out["pairs"][0]["domains"]["x"][0] == 33.3)
    preds.to_parquet(tmp_path / "two" / "predictions.parquet")  # now the second run has a as well
    with pytest.raises(SteervisError, match="'a' is in both"):
        study_paired(run=f"{tmp_path / 'one'},{tmp_path / 'two'}", a="a", b="b")


def test_runs_are_paired_by_image_content_not_by_path(tmp_path):
    preds = predictions([1, 1, 0], [0, 1, 0], ["x", "x", "x"])
    moved = preds.assign(path=preds["path"].str.replace("x/", "elsewhere/"))  # the same images, other paths
    for folder, frame in (("one", preds[preds["method"] == "a"]), ("two", moved[moved["method"] == "b"])):
        (tmp_path / folder).mkdir()
        frame.to_parquet(tmp_path / folder / "predictions.parquet")
    out = study_paired(run=f"{tmp_path / 'one'},{tmp_path / 'two'}", a="a", b="b")
    assert out["pairs"][0] == paired_differences(preds, "a", "b")


def test_runs_that_saw_other_images_under_the_same_paths_are_refused(tmp_path):
    preds = predictions([1, 1, 0], [0, 1, 0], ["x", "x", "x"])
    other = preds.copy()
    other.loc[other["path"] == "x/2.png", "sha256"] = "edited"  # same path, other bytes in the second run
    for folder, frame in (("one", preds[preds["method"] == "a"]), ("two", other[other["method"] == "b"])):
        (tmp_path / folder).mkdir()
        frame.to_parquet(tmp_path / folder / "predictions.parquet")
    with pytest.raises(SteervisError, match=r"not tested on the same images: 1 of a's 3 test images are not "
                                            r"among b's and 1 of b's 3 not among a's") as err:
        study_paired(run=f"{tmp_path / 'one'},{tmp_path / 'two'}", a="a", b="b")
    assert "\n" not in str(err.value)


def test_copies_of_one_image_pair_with_the_copies_and_relabelled_images_are_refused():
    preds = predictions([1, 0], [1, 1], ["x", "x"])
    preds["sha256"] = "same"  # one image twice in the domain (a copied file)
    out = paired_differences(preds, "a", "b")
    assert out["images"] == {"x": 2} and out["domains"]["x"][0] == -50.0
    relabelled = predictions([1, 0], [1, 1], ["x", "x"])
    relabelled.loc[relabelled["method"] == "b", "class"] = "dog"
    with pytest.raises(SteervisError, match="are labelled differently"):
        paired_differences(relabelled, "a", "b")


def test_a_run_written_before_sha256_was_stored_is_refused_with_the_way_out(tmp_path):
    predictions([1], [1], ["x"]).drop(columns="sha256").to_parquet(tmp_path / "predictions.parquet")
    with pytest.raises(SteervisError, match="before runs recorded each image's sha256.*rerun the same"):
        study_paired(run=str(tmp_path), a="a", b="b")


def test_two_runs_of_the_same_rows_are_compared_cell_by_cell(tmp_path):
    # the same method run twice (float32, bfloat16): one x image flips to right, one y image to another miss
    first = predictions([1, 0, 1, 0], [0, 0, 0, 0], ["x", "x", "y", "y"])
    second = first.copy()
    second.loc[(second["method"] == "a") & (second["path"] == "x/1.png"), "pred"] = "cat"
    second.loc[(second["method"] == "a") & (second["path"] == "y/3.png"), "pred"] = "cow"
    for folder, frame in (("f32", first), ("bf16", second)):
        (tmp_path / folder).mkdir()
        frame.to_parquet(tmp_path / folder / "predictions.parquet")
    metrics = '{"runs": {"x/a": {"commit": "c1"}, "x/b": {"commit": "c0"}}}'
    (tmp_path / "f32" / "metrics.json").write_text(metrics)
    out = study_paired(run=str(tmp_path / "f32"), against=str(tmp_path / "bf16"), a="a")
    assert out["commit"] == ["c1", "unknown"]  # the second run's metrics do not say
    assert list(out["rows"]) == ["a/x", "a/y", "a/mean"]
    x, y, mean = out["rows"]["a/x"], out["rows"]["a/y"], out["rows"]["a/mean"]
    assert x["f32"][0] == 0.5 and x["bf16"][0] == 1.0 and x["difference"][0] == 0.5
    assert x["changed"] == 1 and y["changed"] == 1 and y["difference"] == [0.0, 0.0, 0.0]
    assert mean["changed"] == 2 and mean["images"] == 4 and mean["difference"][0] == 0.25
    both = study_paired(run=str(tmp_path / "f32"), against=str(tmp_path / "bf16"), names="float32,bfloat16")
    assert list(both["rows"]) == ["a/x", "a/y", "a/mean", "b/x", "b/y", "b/mean"]
    assert both["rows"]["b/mean"]["changed"] == 0 and "float32" in both["rows"]["a/x"]
    with pytest.raises(SteervisError, match="share the methods a, b"):
        study_paired(run=str(tmp_path / "f32"), against=str(tmp_path / "bf16"), a="c")
    with pytest.raises(SteervisError, match="two different titles"):
        study_paired(run=str(tmp_path / "f32"), against=str(tmp_path / "bf16"), names="same,same")
