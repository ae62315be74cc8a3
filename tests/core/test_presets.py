"""Every shipped preset YAML loads into the config it is for, and every method option in it is valid."""

from __future__ import annotations

import pytest

from steervis.config import PRESET_DIR, load_config

PRESETS = sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def config_for(name: str) -> type:
    from steervis.eval.config import EvaluateConfig
    from steervis.ground.train import GroundSettings
    from steervis.llava.train import StageSettings
    from steervis.react.config import ReactPoolConfig, ReactTaskConfig
    from steervis.stic.config import SticConfig
    from steervis.thinker.config import ThinkChainsConfig
    from steervis.vllavo.decide.config import DecideConfig
    from steervis.vllavo.describe.config import DescribeConfig

    react = {"react-pool": ReactPoolConfig, "react-task": ReactTaskConfig}
    kinds = {"decide": DecideConfig, "describe": DescribeConfig, "llava": StageSettings,
             "ground": GroundSettings, "stic": SticConfig, "think": ThinkChainsConfig}
    return react.get(name) or kinds.get(name.split("-")[0], EvaluateConfig)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads(name):
    cfg = load_config(config_for(name), preset=name)
    if type(cfg).__name__ == "EvaluateConfig":
        from steervis.eval.harness import resolve_methods
        from steervis.eval.protocols import PROTOCOLS

        PROTOCOLS.get(cfg.protocol)
        assert list(resolve_methods(cfg)) == [r.label for r in cfg.runs]


def test_there_are_presets_of_each_kind():
    assert {config_for(n).__name__ for n in PRESETS} == {
        "DecideConfig", "DescribeConfig", "EvaluateConfig", "StageSettings", "ReactPoolConfig",
        "ReactTaskConfig", "GroundSettings", "SticConfig", "ThinkChainsConfig"}


def test_the_best_describer_preset_is_the_one_the_full_tables_best_row_reads():
    from steervis.config import to_dict
    from steervis.eval.config import EvaluateConfig
    from steervis.eval.method_runs import resolve_methods
    from steervis.vllavo.describe.config import DescribeConfig

    best = resolve_methods(load_config(EvaluateConfig, preset="full"))["describe-decide@react-pool-pool5-3ep"]
    assert to_dict(best.describe) == to_dict(load_config(DescribeConfig, preset="describe-react-pool"))
    assert best.options.train.epochs == 3 and best.options.train.max_steps is None  # VLLaVO's budget


def test_run_folders_keep_the_labels_of_every_evaluate_preset():
    from steervis.eval.config import EvaluateConfig

    full = [r.label for r in load_config(EvaluateConfig, preset="full").runs]
    assert len(full) == 32 and full[:3] == ["zeroshot", "zeroshot@react-pool", "react"]
    assert full[-1] == "vlm-finetuned" and "describe-decide@react-pool-styles-3ep-gemma3" in full
