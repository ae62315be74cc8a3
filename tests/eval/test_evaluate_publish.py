"""A run folder's results appear together: a run that fails while writing them leaves the earlier run
whole."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from steervis.config import config_hash
from steervis.errors import SteervisError
from steervis.eval import EvaluateConfig, evaluate
from steervis.outputs import read_stamp


@pytest.fixture
def toy(tmp_path, tmp_home):
    from steervis.data.synthetic import make_toy_dataset

    return make_toy_dataset(tmp_path / "toy")


def config(toy, tmp_path, per_class: int) -> EvaluateConfig:
    return EvaluateConfig(data=str(toy), runs=[{"method": "linear-probe"}], out=str(tmp_path / "runs"),
                          name="same", max_per_class=per_class)


def test_a_run_killed_while_publishing_leaves_the_earlier_run_whole(toy, tmp_path, monkeypatch):
    first = evaluate(config(toy, tmp_path, 3), progress=False)
    assert read_stamp(first.run_dir)["config_hash"] == config_hash(config(toy, tmp_path, 3))

    import steervis.eval.report as report

    def killed(*args, **kwargs):  # as a kill after metrics and predictions were written, before the report
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "write_report", killed)
    with pytest.raises(KeyboardInterrupt):
        evaluate(config(toy, tmp_path, 2), progress=False)
    run = first.run_dir
    assert yaml.safe_load((run / "config.yaml").read_text())["max_per_class"] == 3
    assert len(pd.read_parquet(run / "predictions.parquet")) == len(first.predictions)  # the earlier run's
    assert read_stamp(run)["config_hash"] == config_hash(config(toy, tmp_path, 3))
    assert [p.name for p in run.parent.iterdir()] == ["same"]  # no staging folder left behind
    assert len(list((run / "parts").glob("*.parquet"))) == 2 * 2  # the new parts are kept for the rerun

    monkeypatch.undo()
    second = evaluate(config(toy, tmp_path, 2), progress=False)
    assert yaml.safe_load((run / "config.yaml").read_text())["max_per_class"] == 2
    assert len(second.predictions) < len(first.predictions)
    assert read_stamp(run)["config_hash"] == config_hash(config(toy, tmp_path, 2))


def test_a_folder_of_the_users_own_is_not_a_run_folder(toy, tmp_path):
    mine = tmp_path / "runs" / "same"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(SteervisError, match=r"holds files steervis did not write \(notes.txt\)"):
        evaluate(config(toy, tmp_path, 3), progress=False)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
