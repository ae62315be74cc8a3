"""`--set` and `--config` values are checked against the dataclass field types: one sentence, never a
traceback."""

from __future__ import annotations

import re

import pytest

from steervis.cli import main
from steervis.config import load_config
from steervis.errors import SteervisError
from steervis.eval.config import EvaluateConfig


@pytest.mark.parametrize("override, words", [
    ("max_per_class=2.5", "whole number"),
    ("seed=[1,2]", "whole number"),
    ("runs=5", "list"),
    ("runs=[{method: zeroshot, options: 5}]", "mapping"),
    ("uda=5", "mapping"),
    ("uda.rounds=many", "whole number"),
    ("describe.tag_threshold=high", "number"),
    ("runs=[{method: linear-probe, options: {C: high}}]", "number"),
    ("gallery=true", "whole number"),
])
def test_a_value_of_the_wrong_type_is_one_sentence(override, words):
    with pytest.raises(SteervisError, match=words) as err:
        load_config(EvaluateConfig, overrides=[override])
    assert "\n" not in str(err.value) and override.split("=")[0] in str(err.value)


def test_values_of_the_right_type_still_convert():
    cfg = load_config(EvaluateConfig, overrides=["max_per_class=3", "describe.tag_threshold=1e-4", "seed=2.0",
                                                 "held_out=photo,sketch", "describe.captioner=null"])
    assert cfg.max_per_class == 3 and cfg.describe.tag_threshold == 1e-4 and cfg.seed == 2
    assert cfg.held_out == ["photo", "sketch"] and cfg.describe.captioner is None


def test_cli_bad_set_and_a_folder_as_config_exit_2_with_a_sentence(tmp_path, capsys):
    assert main(["evaluate", "--set", "max_per_class=2.5", "--print-config"]) == 2
    assert "max_per_class=2.5 must be a whole number" in capsys.readouterr().err
    assert main(["evaluate", "--config", str(tmp_path), "--print-config"]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["demo", "--set", "max_per_class=3", "--print-config"]) == 0
    assert "max_per_class: 3" in capsys.readouterr().out


def test_empty_runs_are_refused_not_read_as_every_method():
    with pytest.raises(SteervisError, match="runs is empty"):
        load_config(EvaluateConfig, base={"runs": []})


@pytest.mark.parametrize("override, words", [
    ("methods=[zeroshot]", "methods is now `runs`"),
    ("method_options={zeroshot: {matcher: conse}}", "method_options is now `runs`"),
    ("runs=[describe-decide@react-pool]", "write {label: describe-decide@react-pool, method: describe-decide}"
     ),
    ("runs=[zeroshot]", "write {method: zeroshot}"),
])
def test_an_old_spelling_names_runs_and_shows_the_new_form(override, words):
    with pytest.raises(SteervisError, match=re.escape(words)) as err:
        load_config(EvaluateConfig, overrides=[override])
    assert "\n" not in str(err.value) and "runs: [{label:" in str(err.value)
    assert main(["evaluate", "--methods", "zeroshot", "--print-config"]) == 2


def test_the_offline_captioner_advice_reads_as_a_sentence(monkeypatch):
    from steervis.zoo import core

    def unavailable(model_id, **kw):
        raise OSError("not cached")

    with pytest.raises(SteervisError) as err:
        core.load_from_hub("org/blip", "captioner", unavailable)
    assert "Use the embedded none" not in str(err.value) and "without a captioner" in str(err.value)
