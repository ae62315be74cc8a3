"""``steervis study``: lists the analyses, derives each one's options from its signature as ``bench`` does,
runs one on a run folder and writes its JSON; ``bench`` lists throughput benchmarks only."""

import json

import pandas as pd
import pytest

from steervis.cli import main
from steervis.eval.benchmarks import BENCHMARKS
from steervis.studies import STUDIES

ANALYSES = {"paired", "class-tags", "text-shift", "react-zeroshot", "vlm-sweep", "vlm-probe", "vlm-captions"}


def test_study_lists_the_analyses_and_bench_none_of_them(capsys):
    assert main(["study", "--list"]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    assert ANALYSES <= listed == set(STUDIES.names())
    assert not ANALYSES & set(BENCHMARKS.names())
    for name in STUDIES.names():
        assert callable(STUDIES.get(name)), name


def test_bench_help_says_throughput_and_memory(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--list list the throughput and memory benchmarks" in out and "steervis study NAME" in out


def test_study_options_are_the_signature_checked_like_every_config(tmp_home, capsys):
    assert main(["study", "vlm-sweep", "--set", "draws=3", "--print-config"]) == 0
    printed = capsys.readouterr().out
    assert "draws: 3" in printed and "model: stage2" in printed
    assert main(["study", "vlm-sweep", "--set", "draws=0"]) == 2
    assert ("study vlm-sweep: draws must be a whole number of at least 1, not 0."
            in capsys.readouterr().err)
    assert main(["study", "paired", "--set", "runn=x", "--print-config"]) == 2
    assert "Unknown config key 'runn'. Did you mean 'run'?" in capsys.readouterr().err


def test_paired_runs_on_a_run_folder_and_writes_its_result(tmp_home, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    pd.DataFrame({"method": ["a", "a", "b", "b"], "domain": ["x", "y", "x", "y"], "sha256": ["1", "2"] * 2,
                  "class": ["cat"] * 4, "pred": ["cat", "cat", "dog", "cat"]}).to_parquet(
        run / "predictions.parquet")
    out = tmp_path / "paired.json"
    sides = ["--set", "a=a", "--set", "b=b"]
    assert main(["study", "paired", "--set", f"run={run}", *sides, "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result == json.loads(capsys.readouterr().out)
    assert result["pairs"][0]["domains"] == {"x": [100.0, 100.0, 100.0], "y": [0.0, 0.0, 0.0]}
