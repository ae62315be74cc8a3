"""Every shipped preset YAML loads into the config it is for, and every method option in it is valid."""

from __future__ import annotations

import pytest

from steervis.config import PRESET_DIR, load_config

PRESETS = sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def config_for(name: str) -> type:
    from steervis.eval.config import EvaluateConfig
    from steervis.react.config import ReactPoolConfig, ReactTaskConfig
    from steervis.vllavo.decide.config import DecideConfig
    from steervis.vllavo.describe.config import DescribeConfig

    react = {"react-pool": ReactPoolConfig, "react-task": ReactTaskConfig}
    return react.get(name) or {"decide": DecideConfig, "describe": DescribeConfig}.get(name.split("-")[0],
                                                                                        EvaluateConfig)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads(name):
    cfg = load_config(config_for(name), preset=name)
    if type(cfg).__name__ == "EvaluateConfig":
        from steervis.eval.harness import resolve_methods
        from steervis.eval.protocols import PROTOCOLS

        PROTOCOLS.get(cfg.protocol)
        assert set(resolve_methods(cfg)) == set(cfg.methods)


def test_there_are_presets_of_each_kind():
    assert {config_for(n).__name__ for n in PRESETS} == {"DecideConfig", "DescribeConfig", "EvaluateConfig",
                                                     "ReactPoolConfig", "ReactTaskConfig"}
