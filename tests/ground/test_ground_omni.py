"""OmniLabel-style evaluation: the false-positive rate on absent-object descriptions is right on a toy case,
the threshold is chosen by Youden's J, each category gets its own description; ``steervis ground train``
with DesCo's prompts then ``eval`` in the three prompt modes end to end; bad input one sentence."""

from __future__ import annotations

import json

import numpy as np
import pytest

from steervis.cli import main
from steervis.errors import SteervisError
from steervis.ground.coco import read_coco
from steervis.ground.contract import Detections
from steervis.ground.descriptions import Descriptions
from steervis.ground.omni import category_phrases, choose_threshold, evaluate_absent, only

TINY = ["--set", "model.trunk=tiny", "--set", "model.stride=16", "--set", "model.size=128", "--set",
        "model.text=tiny-bert", "--set", "model.hidden=16", "--set", "device=cpu"]
DESCRIPTORS = "red: [ripe tomatoes and fire engines]\ngreen: [fresh grass and leaves]\nblue: [a clear sky]\n"


class _SeesRed:
    """A grounder that, whatever it is asked, reports the toy's top-left red square when there is one."""

    def __init__(self):
        self.prompts = []

    def ground(self, images, prompt):
        self.prompts.append(prompt)
        out = []
        for image in images:
            red = image.getpixel((20, 20)) == (220, 30, 30)
            out.append(Detections(np.array([[8, 8, 48, 48]], np.float32), np.array([0.8], np.float32),
                                  [prompt]) if red else Detections.empty())
        return out


def test_the_false_positive_rate_counts_absent_prompts_with_a_detection(toy_coco):
    coco = read_coco(toy_coco)
    described = Descriptions({"red": ["ripe tomatoes"], "green": ["fresh grass"], "blue": ["a clear sky"]})
    grounder = _SeesRed()
    low = evaluate_absent(grounder, coco, described, threshold=0.5)
    # images 0-2 each lack a colour (image 3 holds all three); only image 0 has the red square at (20, 20)
    assert (low["absent_prompts"], low["present_prompts"]) == (3, 4)
    assert low["fp_rate"] == pytest.approx(1 / 3)
    assert low["fp_rate_ci95"][0] <= 1 / 3 <= low["fp_rate_ci95"][1]
    assert set(grounder.prompts) <= {"ripe tomatoes", "fresh grass", "a clear sky"}
    high = evaluate_absent(_SeesRed(), coco, described, threshold=0.9, threshold_from="val.json")
    assert high["fp_rate"] == 0.0 and high["hit_rate"] == 0.0 and high["threshold_from"] == "val.json"
    assert low["hit_rate"] in (0.0, 0.25)  # image 0's present prompt hits only if it asks for red


def test_the_threshold_is_the_one_with_the_best_hit_rate_less_false_positive_rate():
    present, absent = np.array([0.9, 0.8, 0.0]), np.array([0.3, 0.85, 0.0])
    assert choose_threshold(present, absent) == 0.8
    assert choose_threshold(np.zeros(3), np.zeros(2)) == 1.0


def test_each_category_gets_its_own_description_or_is_left_out(toy_coco):
    described = Descriptions({"a": ["round", "red"], "b": ["round"], "c": ["blue"]})
    phrases, left_out = category_phrases(["a", "b", "c", "d"], described)
    assert phrases == {"a": "round", "c": "blue"} and left_out == ["b", "d"]
    coco = read_coco(toy_coco)
    kept = only(coco, ["red", "blue"])
    assert kept.names == ["red", "blue"] and len(kept.images) == 4
    assert [i.phrases for i in kept.images] == [["red", "blue"], ["red"], ["blue"], ["red", "blue"]]
    assert [len(i.boxes) for i in kept.images] == [2, 1, 1, 2]


def test_desco_train_then_eval_in_the_three_prompt_modes(tmp_path, capsys, tmp_home, toy_coco_of):
    # the image holding every colour first: the validation part (the last image) lacks one
    toy_coco = toy_coco_of([3, 0, 1, 2])
    descriptors = tmp_path / "descriptors.yaml"
    descriptors.write_text(DESCRIPTORS)
    out = tmp_path / "desco"
    assert main(["ground", "train", "--preset", "ground-desco", "--set", f"coco={toy_coco}", "--set",
                 "part=all", "--set", "train.max_steps=3", "--set", "train.batch_size=2", "--set",
                 "train.negatives=1", "--set", f"prompts.descriptors={descriptors}", *TINY, "--out", str(out),
                 "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 3 and (summary["described"], summary["described_by_name"]) == (3, 0)
    common = ["ground", "eval", "--grounder", str(out), "--coco", str(toy_coco), "--set", "device=cpu",
              "--set", f"descriptors={descriptors}", "--bootstrap", "20", "--quiet"]
    results = {}
    val_json = str(tmp_path / "absent.json")
    for mode, extra in [("names", ["--part", "all"]), ("descriptions", ["--part", "all"]),
                        ("absent", ["--part", "val"]),
                        ("absent-test", ["--part", "main", "--threshold-from", val_json])]:
        written = str(tmp_path / f"{mode}.json")
        assert main([*common, "--prompts", mode.split("-")[0], *extra, "--out", written]) == 0
        results[mode] = json.loads((tmp_path / f"{mode}.json").read_text())
    assert results["names"]["prompts"] == "names" and 0 <= results["names"]["ap"] <= 1
    described = results["descriptions"]
    assert described["ap_names"] == results["names"]["ap"]
    assert (described["described"], described["left_out"]) == (3, 0)
    assert described.keys() >= {"ap_descriptions", "ap_descriptions_ci95", "ap_names_ci95", "ap_hmean"}
    a, b = described["ap_names"], described["ap_descriptions"]
    assert described["ap_hmean"] == pytest.approx(2 * a * b / (a + b) if a + b else 0.0)
    val, test = results["absent"], results["absent-test"]
    assert val["part"] == "val" and val["threshold"] == val["threshold_chosen"]
    assert test["threshold"] == val["threshold_chosen"] and test["threshold_from"].endswith("absent.json")
    assert val["absent_prompts"] == 1 and test["absent_prompts"] == 2  # main: images 0-2, two lack a colour
    assert 0 <= test["fp_rate"] <= 1


def test_bad_desco_input_is_one_sentence(toy_coco, tmp_path, capsys, tmp_home):
    assert main(["ground", "train", "--preset", "ground-desco", "--set", "prompts.absent_share=1.5",
                 *TINY, "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert main(["ground", "train", "--preset", "ground-desco", "--set", f"coco={toy_coco}", *TINY,
                 "--set", "train.max_steps=1", "--out", str(tmp_path / "y"), "--quiet"]) == 2
    assert main(["ground", "eval", "--grounder", "tiny-glip", "--coco", str(toy_coco), "--prompts", "absent",
                 "--set", "device=cpu", "--quiet"]) == 2
    assert main(["ground", "eval", "--grounder", "tiny-glip", "--prompts", "boxes"]) == 2
    err = capsys.readouterr().err
    assert err.count("steervis: error:") == 4 and "Traceback" not in err
    assert "between 0 and 1" in err and "No training concept has a description" in err
    assert "--part val" in err and "not one of: names, descriptions, absent" in err


class _Oracle:
    """A grounder that finds each prompted colour exactly (phrases name colours through ``colour_of``)."""

    def __init__(self, colour_of, colours):
        self.colour_of, self.colours = colour_of, colours

    def ground(self, images, prompt):
        out = []
        for image in images:
            pixels, boxes, phrases = np.asarray(image), [], []
            for phrase in (p.strip() for p in prompt.split(".") if p.strip()):
                ys, xs = np.nonzero((pixels == self.colours[self.colour_of[phrase]]).all(axis=-1))
                if len(xs):
                    boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
                    phrases.append(phrase)
            out.append(Detections(np.array(boxes, np.float32).reshape(-1, 4),
                                  np.full(len(boxes), 0.9, np.float32), phrases))
        return out


def test_description_ap_leaves_out_the_categories_without_a_description(toy_coco, toy_colours):
    from steervis.ground.omni import evaluate_descriptions

    coco = read_coco(toy_coco)
    described = Descriptions({"red": ["ripe tomatoes"], "blue": ["a clear sky"]})
    colour_of = {"ripe tomatoes": "red", "a clear sky": "blue", **{c: c for c in ("red", "green", "blue")}}
    result = evaluate_descriptions(_Oracle(colour_of, toy_colours), coco, described, resamples=10)
    assert (result["described"], result["left_out"], result["left_out_categories"]) == (2, 1, ["green"])
    assert result["ap_names"] == pytest.approx(1.0) and result["ap_descriptions"] == pytest.approx(1.0)
    assert result["ap_hmean"] == pytest.approx(1.0)
    wrong = _Oracle({**colour_of, "a clear sky": "green"}, toy_colours)
    half = evaluate_descriptions(wrong, coco, described)
    assert half["ap50_descriptions"] == pytest.approx(0.5)  # the sky found where the grass is: blue missed
    with pytest.raises(SteervisError, match="has a description of its own"):
        evaluate_descriptions(_Oracle(colour_of, toy_colours), coco, Descriptions())
