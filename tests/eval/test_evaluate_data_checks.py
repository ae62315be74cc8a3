"""What evaluate refuses before any work (a run name outside --out, a split that tests on training images),
and the sha256 its predictions carry for `study paired`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from steervis.cli import main
from steervis.errors import SteervisError
from steervis.eval import EvaluateConfig, evaluate
from steervis.eval.config import check_run_name
from steervis.eval.protocols import check_splits, dg_splits, uda_splits


@pytest.fixture
def toy(tmp_path, tmp_home):
    from steervis.data.synthetic import make_toy_dataset

    return make_toy_dataset(tmp_path / "toy")


@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "a/b", "a\\b", "..", ".", "  "])
def test_a_run_name_that_is_not_one_folder_name_is_refused(name):
    with pytest.raises(SteervisError, match="must be a plain folder name inside --out"):
        EvaluateConfig(name=name)


def test_plain_run_names_and_the_default_pass():
    for name in ("", "ablation-1", "dg.v2", "..hidden-but-fine"):
        check_run_name(name)


def test_cli_refuses_a_run_name_that_escapes_out_and_writes_nothing(toy, tmp_path, capsys):
    out = tmp_path / "a" / "b" / "runs"
    code = main(["evaluate", "--data", str(toy), "--runs", "linear-probe", "--out", str(out),
                 "--set", "name=../../escaped"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("steervis: error: Run name '../../escaped'")
    assert not (tmp_path / "a").exists()


def frame(rows):
    return pd.DataFrame(rows, columns=["path", "domain", "class", "sha256"])


def test_a_split_that_would_test_on_a_training_image_is_refused():
    data = frame([("r/photo/dog/1.png", "photo", "dog", "h1"), ("r/photo/cat/2.png", "photo", "cat", "h2"),
                  ("r/sketch/cat/3.png", "sketch", "cat", "h1"),
                  ("r/sketch/dog/4.png", "sketch", "dog", "h4")])
    with pytest.raises(SteervisError, match=r"Split 'photo' would test on 1 image\(s\) it also trains on .*"
                                            r"e\.g\. photo/dog/1\.png is also sketch/cat/3\.png"):
        check_splits(dg_splits(data))
    with pytest.raises(SteervisError, match="'sketch→photo' would test on 1 image"):
        check_splits(uda_splits(data, ["sketch"], ["photo"]))
    data.loc[2, "sha256"] = "h3"
    assert len(check_splits(dg_splits(data))) == 2


def test_evaluate_refuses_a_dataset_whose_linked_folder_puts_test_images_into_training(toy, tmp_path):
    (toy / "photo" / "star").symlink_to("../sketch/circle", target_is_directory=True)
    with pytest.raises(SteervisError, match=r"Split 'photo' would test on 4 image\(s\) it also trains on"):
        evaluate(EvaluateConfig(data=str(toy), runs=[{"method": "linear-probe"}], out=str(tmp_path / "runs")),
                 progress=False)
    assert not (tmp_path / "runs").exists()


def test_predictions_carry_sha256_and_parts_written_without_it_get_it_back(toy, tmp_path):
    cfg = EvaluateConfig(data=str(toy), runs=[{"method": "linear-probe"}], out=str(tmp_path / "runs"),
                         name="r")
    first = evaluate(cfg, progress=False)
    preds = pd.read_parquet(first.run_dir / "predictions.parquet")
    hashes = pd.read_parquet(toy / "manifest.parquet").set_index("path")["sha256"]
    relative = preds["path"].map(lambda p: "/".join(p.split("/")[-3:]))
    assert (preds["sha256"] == relative.map(hashes)).all()
    for part in (first.run_dir / "parts").glob("*.parquet"):  # as parts were written before sha256 was stored
        pd.read_parquet(part).drop(columns="sha256").to_parquet(part, index=False)
    again = pd.read_parquet(evaluate(cfg, progress=False).run_dir / "predictions.parquet")
    pd.testing.assert_frame_equal(again[preds.columns].sort_values("path", ignore_index=True),
                                  preds.sort_values("path", ignore_index=True))


def test_the_data_rows_are_in_the_reliability_table():
    rows = (Path(__file__).resolve().parents[1] / "reliability" / "test_dataset_rows.py").read_text()
    for name in ["input-paired-other-images", "input-run-name-escapes", "input-data-link-into-training",
                 "input-data-link-outside", "input-retrieve-out-csv", "input-retrieve-out-suffix",
                 "input-models-damaged-card"]:
        assert f'"{name}"' in rows, name
