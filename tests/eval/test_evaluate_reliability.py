"""evaluate's results belong to the config and the bytes; damaged parts heal; bad inputs are sentences."""

from __future__ import annotations

import logging
import shutil

import pandas as pd
import pytest

from steervis.cli import main
from steervis.errors import SteervisError
from steervis.eval import EvaluateConfig, evaluate

ZS = {"method": "zeroshot", "options": {"matcher": "tiny-clip"}}


@pytest.fixture
def toy(tmp_path, tmp_home):
    from steervis.data.synthetic import make_toy_dataset

    return make_toy_dataset(tmp_path / "toy", per_class=4, size=32)


def run(toy, tmp_path, runs=(ZS,), **kw):
    cfg = EvaluateConfig(data=str(toy), runs=list(runs), out=str(tmp_path / "runs"), name="same", **kw)
    return evaluate(cfg, progress=False)


def test_a_changed_setting_recomputes_what_it_changes_and_reuses_the_rest(toy, tmp_path):
    three = run(toy, tmp_path, max_per_class=3)
    assert len(three.predictions) == 3 * 3 * 2  # 3 per (domain, class), 3 classes, 2 domains: not a stale run
    two = run(toy, tmp_path, max_per_class=2)  # same run name, another config
    assert (len(two.predictions) == 2 * 3 * 2
            and "max_per_class: 2" in (two.run_dir / "config.yaml").read_text())
    parts = sorted((two.run_dir / "parts").glob("*.parquet"))
    stamps = {p: p.stat().st_mtime_ns for p in parts}
    again = run(toy, tmp_path, max_per_class=3)  # back to 3: its parts are still there, reused untouched
    pd.testing.assert_frame_equal(again.predictions, three.predictions)
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())
    # a method option that changes one method's result recomputes that method only
    both = run(toy, tmp_path, [ZS, {"method": "linear-probe"}], max_per_class=3)
    n_parts = len(list((both.run_dir / "parts").glob("*.parquet")))
    run(toy, tmp_path, [ZS, {"method": "linear-probe", "options": {"C": 0.01}}], max_per_class=3)
    assert len(list((both.run_dir / "parts").glob("*.parquet"))) == n_parts + 2  # two splits × linear-probe


def test_an_edited_image_is_a_new_result_not_a_stale_one(toy, tmp_path):
    first = run(toy, tmp_path)
    image = sorted((toy / "sketch" / "circle").glob("*.png"))[0]
    shutil.copy(sorted((toy / "sketch" / "square").glob("*.png"))[0], image)  # same path, new bytes
    second = run(toy, tmp_path)
    # Both splits hold the image (sketch tests it, photo trains on it): both are redone, none reused stale.
    assert len(list((second.run_dir / "parts").glob("*.parquet"))) == 4
    assert first.run_dir == second.run_dir
    third = run(toy, tmp_path)  # unchanged bytes: everything reused
    pd.testing.assert_frame_equal(third.predictions, second.predictions)
    assert len(list((third.run_dir / "parts").glob("*.parquet"))) == 4


def test_a_damaged_part_is_set_aside_and_recomputed(toy, tmp_path, caplog):
    first = run(toy, tmp_path)
    part = sorted((first.run_dir / "parts").glob("*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:40])  # truncated
    with caplog.at_level(logging.WARNING):
        second = run(toy, tmp_path)
    assert "damaged" in caplog.text and part.with_name(part.name + ".corrupt").exists()
    pd.testing.assert_frame_equal(first.predictions, second.predictions)


def test_a_training_split_with_one_class_is_a_sentence(tmp_path, tmp_home):
    from steervis.data.synthetic import make_toy_dataset

    toy = make_toy_dataset(tmp_path / "toy", per_class=2, size=32)
    shutil.rmtree(toy / "photo" / "square")
    shutil.rmtree(toy / "photo" / "triangle")
    with pytest.raises(SteervisError, match="hold one class, 'circle'.*at least two classes"):
        run(toy, tmp_path, [{"method": "linear-probe"}], held_out=["sketch"])


def test_classes_differing_only_by_case_are_named_in_a_warning(tmp_path, tmp_home, caplog):
    from steervis.data.synthetic import make_toy_dataset

    toy = make_toy_dataset(tmp_path / "toy", per_class=2, size=32)
    for domain in ("photo", "sketch"):
        (toy / domain / "square").rename(toy / domain / "Circle")
    with caplog.at_level(logging.WARNING):
        run(toy, tmp_path)
    assert "'Circle' and 'circle'" in caplog.text or "'circle' and 'Circle'" in caplog.text


def test_out_that_is_a_file_and_empty_runs_are_sentences(toy, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["evaluate", "--data", str(toy), "--runs", "linear-probe",
                 "--out", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["evaluate", "--data", str(toy), "--set", "runs=[]", "--out", str(tmp_path / "r")]) == 2
    assert "runs is empty" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_unknown_describe_key_fails_before_anything_runs(toy, tmp_path, capsys):
    code = main(["evaluate", "--data", str(toy), "--runs", "zeroshot", "--out", str(tmp_path / "r"),
                 "--set", "describe.matchr=tiny-clip"])
    assert code == 2 and "describe.matchr" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_a_retrained_vlm_is_a_new_part_key(toy, tmp_path):
    """vlm methods name their model (stage2, a folder): its files' bytes, not its name, key the result."""
    import time

    from steervis.data import load_folder
    from steervis.eval.harness import part_key, resolve_methods
    from steervis.eval.protocols import PROTOCOLS
    from steervis.llava.model import vlm_identity

    model = tmp_path / "my-vlm"
    model.mkdir()
    (model / "card.json").write_text("{}")
    (model / "projector.safetensors").write_bytes(b"first weights")
    cfg = EvaluateConfig(data=str(toy), runs=[{"method": "vlm-score", "options": {"model": str(model)}}, ZS],
                         out=str(tmp_path / "runs"))
    frame = load_folder(toy, progress=False).frame
    split = PROTOCOLS.get(cfg.protocol)(frame, cfg)[0]
    classes = sorted(frame["class"].unique())

    def keys():
        return {label: part_key(cfg, split, r, classes) for label, r in resolve_methods(cfg).items()}

    before = keys()
    time.sleep(0.01)
    (model / "projector.safetensors").write_bytes(b"retrained weights")  # same folder name, new model
    after = keys()
    assert after["vlm-score"] != before["vlm-score"] and after["zeroshot"] == before["zeroshot"]
    assert vlm_identity("smollm2-135m-instruct") == "smollm2-135m-instruct"  # plain names stay themselves
    assert vlm_identity(str(model)).startswith(str(model) + "@")
