"""REACT's recipes are presets read by the one config loader: ``react build`` rebuilds the reported
react-pool (its model-selection grid as docs/RESULTS.md reports it) and ``react customize`` trains with the
per-task settings, each shown by ``--print-config`` and changed by ``--set``."""

from __future__ import annotations

import pytest

from steervis.cli import main
from steervis.config import dump_config, load_config
from steervis.errors import SteervisError
from steervis.react.config import ReactPoolConfig, ReactSettings, task_settings


def test_the_react_pool_preset_is_the_reported_recipe():
    cfg = load_config(ReactPoolConfig, preset="react-pool")
    # docs/RESULTS.md, "react-pool: build and model selection": four configurations on 10 % of the concepts
    assert cfg.grid == {"epochs": [5], "hidden": [256, 1024], "temperature": [0.03, 0.07]}
    assert (cfg.held_out, cfg.select, cfg.settings) == (0.1, True, ReactSettings())
    assert (task_settings().hidden, task_settings().epochs, task_settings().temperature) == (1024, 5, 0.07)


def test_react_build_reads_the_preset_and_its_overrides(tmp_home, monkeypatch, capsys):
    seen = []

    def fake_build(cfg, progress=True):
        seen.append(cfg)
        from steervis.card import ModelCard, ReactSection, write_card

        tmp_home.mkdir(parents=True, exist_ok=True)
        write_card(tmp_home, ModelCard(kind="react-head", base="conse", data={"pairs": 1, "concepts": 1},
                                       metrics={"gate": 0.0},
                                       react=ReactSection("react-pool", "head", "h", "p")))
        return tmp_home

    monkeypatch.setattr("steervis.react.build.build_react_pool", fake_build)
    assert main(["react", "build", "--preset", "react-pool", "--print-config"]) == 0
    printed = capsys.readouterr().out
    assert printed == dump_config(load_config(ReactPoolConfig, preset="react-pool")) and not seen
    assert main(["react", "build", "--no-select", "--set", "settings.epochs=2", "--quiet"]) == 0
    assert seen[0].select is False and seen[0].settings.epochs == 2 and seen[0].grid["hidden"] == [256, 1024]


def test_react_customize_trains_with_the_task_preset(tmp_home, monkeypatch, capsys):
    calls = []

    def fake_react_for(classes, **kw):
        calls.append((classes, kw))
        raise SteervisError("stop here")

    monkeypatch.setattr("steervis.react.build.react_for", fake_react_for)
    assert main(["react", "customize", "--classes", "dog,cat", "--k", "7"]) == 2
    classes, kw = calls[0]
    assert classes == ["dog", "cat"] and kw["k"] == 7 and kw["settings"] == task_settings()


def test_a_misspelt_grid_field_is_named_with_the_field_it_meant():
    with pytest.raises(SteervisError, match="Unknown config key 'grid.hiden'. Did you mean 'hidden'?"):
        load_config(ReactPoolConfig, preset="react-pool", overrides=["grid.hiden=[8]"])
