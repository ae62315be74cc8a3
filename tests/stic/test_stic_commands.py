"""``steervis stic pairs|gate|train`` end to end on toy training scenes in a private STEERVIS_HOME."""

import json
import shutil

import pytest

from steervis.cli import main


@pytest.fixture
def home_scenes(tmp_home, toy_scenes):
    """The toy scenes where the verbs look for the train split."""
    shutil.copytree(toy_scenes, tmp_home / "data" / "scenes" / "train")
    return tmp_home / "data" / "scenes" / "train"


def test_pairs_then_gate_write_what_they_say(home_scenes, scripted, monkeypatch, capsys, tmp_path):
    import steervis.zoo.vlms

    good = {str(home_scenes / "images/000000.png"): "a red apple and a dog"}
    monkeypatch.setattr(steervis.zoo.vlms, "open_vlm", lambda *a, **k: scripted(good))
    assert main(["stic", "pairs", "--model", "tiny-vlm", "--set", "pool_images=0", "--set", "scene_images=6",
                 "--quiet"]) == 0
    said = json.loads(capsys.readouterr().out)
    written = home_scenes.parents[2] / "stic" / "pairs.jsonl"  # $STEERVIS_HOME/stic/pairs.jsonl
    assert said["pairs"] == len(written.read_text().splitlines()) == 6 and said["out"] == str(written)
    assert {json.loads(line)["model"] for line in written.read_text().splitlines()} == {"tiny-vlm"}
    assert said["how"]["prompt"] == 3
    out = tmp_path / "gate.json"
    assert main(["stic", "gate", "--set", "gate_scenes=6", "--out", str(out), "--quiet"]) == 0
    report = json.loads(out.read_text())
    assert report["scenes"] == 6 and set(report) >= {"chair_i", "chair_s", "recall", "colour", "verdict"}


def test_train_reads_the_pairs_and_saves_a_model_that_loads(home_scenes, tmp_path, capsys):
    from steervis.stic.pairs import Pair, write_pairs
    from steervis.zoo.vlms import open_vlm

    pairs = [Pair(str(home_scenes / f"images/{i:06d}.png"), "scene", i, "a red apple", "a blue cat",
                  "prompt", "") for i in range(3)]
    write_pairs(pairs, tmp_path / "p.jsonl")
    out = tmp_path / "stic-model"
    assert main(["stic", "train", "--model", "tiny-vlm", "--pairs", str(tmp_path / "p.jsonl"), "--out",
                 str(out), "--set", "train.max_steps=1", "--set", "train.batch_size=2", "--quiet"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["steps"] == 1 and said["pairs"] == 3 and "reward_margin_last" in said
    assert open_vlm(str(out)).stages["stic"]["data"]["pairs"] == 3


def test_train_refuses_pairs_another_model_wrote(tmp_home, tmp_path, capsys):
    from steervis.stic.pairs import Pair, write_pairs

    write_pairs([Pair("x.png", "scene", 0, "a", "b", "prompt", "", model="stage1")], tmp_path / "p.jsonl")
    assert main(["stic", "train", "--model", "stage2", "--pairs", str(tmp_path / "p.jsonl"), "--quiet"]) == 2
    assert "written by stage1, not stage2" in capsys.readouterr().err


def test_train_without_pairs_is_one_sentence(tmp_home, capsys):
    assert main(["stic", "train", "--model", "tiny-vlm", "--quiet"]) == 2
    assert "steervis stic pairs" in capsys.readouterr().err
