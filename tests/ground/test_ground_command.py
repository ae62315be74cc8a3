"""``steervis ground``: boxes drawn and written as JSON; ``train`` then ``eval`` end to end on a toy COCO
folder with a tiny model; bad input one sentence."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from steervis.card import read_card
from steervis.cli import main

TINY = ["--set", "model.trunk=tiny", "--set", "model.stride=16", "--set", "model.size=128", "--set",
        "model.text=tiny-bert", "--set", "model.hidden=16", "--set", "device=cpu"]


def test_ground_draws_the_boxes_and_writes_them_as_json(tmp_path, capsys):
    image = tmp_path / "red.png"
    Image.new("RGB", (80, 60), "red").save(image)
    out = tmp_path / "boxes"
    assert main(["ground", "--image", str(image), "--prompt", "a red square. a dog.",
                 "--grounder", "tiny-glip", "--threshold", "0", "--set", "device=cpu",
                 "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads((out / "detections.json").read_text())
    assert printed == written and written["prompt"] == "a red square. a dog."
    (entry,) = written["images"]
    assert entry["detections"] and {d["phrase"] for d in entry["detections"]} <= {"a red square", "a dog"}
    drawn = Image.open(out / "red.boxes.png")
    assert drawn.size == (80, 60) and drawn.convert("RGB").getcolors(10_000) != [(4800, (255, 0, 0))]


def test_train_then_eval_on_a_coco_folder(toy_coco, tmp_path, capsys, tmp_home):
    out = tmp_path / "glip"
    assert main(["ground", "train", "--set", f"coco={toy_coco}", "--set", "part=all", "--set",
                 "train.max_steps=3", "--set", "train.batch_size=2", *TINY, "--out", str(out),
                 "--cache-text", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 3 and summary["images"] == 4
    assert (summary["text_states_encoded"], summary["text_states_cached"]) == (3, 0)
    written = {p.name for p in out.iterdir()}
    assert written >= {"config.yaml", "config.json", "model.safetensors", "train.json", "card.json"}
    card = read_card(out, kind="grounder")
    assert card.data["images"] == 4 and len(card.data["annotations_sha256"]) == 64
    assert card.metrics["steps"] == 3 and card.metrics["peak_rss_mb"] > 0
    assert (card.grounder.recipe, card.config["train"]["max_steps"]) == ("", 3)  # no preset named
    assert main(["ground", "eval", "--grounder", str(out), "--coco", str(toy_coco), "--part", "all",
                 "--set", "device=cpu",
                 "--out", str(tmp_path / "ap.json"), "--quiet"]) == 0
    result = json.loads((tmp_path / "ap.json").read_text())
    assert result["images"] == 4 and result["phrases"] == 3 and 0.0 <= result["ap50"] <= 1.0
    assert result["ap_ci95"][0] <= result["ap"] <= result["ap_ci95"][1]


def test_bad_input_is_one_sentence(tmp_path, capsys):
    image = tmp_path / "red.png"
    Image.new("RGB", (8, 8), "red").save(image)
    assert main(["ground", "--image", str(image), "--prompt", " . ", "--grounder", "tiny-glip"]) == 2
    assert main(["ground", "--prompt", "a dog.", "--grounder", "tiny-glip"]) == 2
    assert main(["ground", "eval", "--coco", str(tmp_path), "--grounder", "tiny-glip"]) == 2
    err = capsys.readouterr().err
    assert err.count("steervis: error:") == 3 and "Traceback" not in err
    assert "names nothing" in err and "at least one --image" in err and "annotations.json" in err


def test_a_refused_training_folder_leaves_no_output_behind(tmp_path, capsys):
    (tmp_path / "annotations.json").write_text("[]")
    out = tmp_path / "glip"
    assert main(["ground", "train", "--set", f"coco={tmp_path}", *TINY, "--out", str(out), "--quiet"]) == 2
    assert "is not COCO" in capsys.readouterr().err and not out.exists()


def test_eval_help_renders_with_the_bootstrap_option(capsys):
    with pytest.raises(SystemExit):
        main(["ground", "eval", "--help"])
    assert "--bootstrap" in capsys.readouterr().out
