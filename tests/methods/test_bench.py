"""``steervis bench score`` and ``decide-modes``: the four strategies agree on the scores they time, in text
and image mode, and a study's name given to bench is answered with ``steervis study``."""

import pytest
from PIL import Image

from steervis.cli import main
from steervis.data.synthetic import make_toy_dataset
from steervis.methods.bench import decide_modes, score_images, score_texts


def test_text_mode_times_four_strategies_that_agree(tmp_home):
    out = score_texts({"toy": ["cat", "dog", "red car"]}, model="tiny-llama", prompts=3, batch_size=2)
    row = out["toy"]
    assert row["classes"] == 3 and row["prompts_timed"] == {"a": 3, "b": 3, "c": 3, "d": 3}
    assert row["max_abs_diff"]["a_vs_c"] < 1e-4 and row["max_abs_diff"]["b_vs_c"] < 1e-4
    assert row["c_speedup_vs_a"] > 0


def test_image_mode_bench_on_the_tiny_hub_llava():
    images = [Image.new("RGB", (32, 32), c) for c in ("red", "blue")]
    out = score_images({"toy": ["cat", "dog", "car"]}, images, model="tiny-llava", prompts=3, batch_size=2)
    row = out["toy"]
    assert out["mode"] == "image" and row["classes"] == 3 and row["prompts_timed"]["a"] == 3
    assert row["max_abs_diff"]["a_vs_c"] < 1e-4 and row["max_abs_diff"]["b_vs_c"] < 1e-4
    assert set(row["s_per_prompt"]) == {"a_full_forward", "b_per_class_cache", "c_steervis", "d_prompt_pass"}


def test_a_study_given_to_bench_names_the_study_verb(tmp_home, capsys):
    assert main(["bench", "paired", "--set", "run=x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["steervis: error: `steervis bench paired` is now `steervis study paired` (an analysis, "
                   "not a benchmark; its --set options are the same)."]


def test_decide_modes_times_both_modes_on_the_same_images(tmp_home, tmp_path):
    toy = make_toy_dataset(tmp_path / "toy")
    adapter = tmp_path / "adapter"
    assert main(["fit", "--data", str(toy), "--domains", "photo", "--out", str(adapter), "--preset",
                 "decide-tiny", "--describe-preset", "describe-tiny", "--quiet"]) == 0
    out = decide_modes(str(adapter), str(toy), "sketch,photo", limit=5)
    assert out["domains"] == ["sketch", "photo"] and out["images"] == 5 and out["classes"] == 3
    assert set(out["score"]) == set(out["generate"]) == {"seconds", "images_per_s"}
    assert out["speedup"] == pytest.approx(out["score"]["images_per_s"] / out["generate"]["images_per_s"],
                                           abs=0.06)
    assert 0 <= out["same_answer"] <= 1
