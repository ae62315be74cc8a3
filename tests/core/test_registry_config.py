from dataclasses import dataclass, field

import pytest

from steervis.config import config_hash, load_config, save_config
from steervis.errors import SteervisError
from steervis.registry import Registry


def test_registry_lazy_entry_and_did_you_mean():
    reg = Registry("thing")
    reg.register("json-dumps", "json:dumps")
    assert reg.get("json-dumps")({"a": 1}) == '{"a": 1}'
    with pytest.raises(SteervisError, match="Did you mean 'json-dumps'"):
        reg.get("json-dump")


def test_registry_refuses_duplicates():
    reg = Registry("thing")
    reg.register("a", lambda: 1)
    with pytest.raises(ValueError):
        reg.register("a", lambda: 2)


@dataclass
class Train:
    lr: float = 1e-3
    domains: list[str] = field(default_factory=list)


@dataclass
class Run:
    name: str = "x"
    train: Train = field(default_factory=Train)


def test_config_layers_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: from-file\ntrain:\n  lr: 0.1\n")
    cfg = load_config(Run, path=path, overrides=["train.domains=photo,sketch"], base={"name": None})
    assert cfg.name == "from-file" and cfg.train.lr == 0.1 and cfg.train.domains == ["photo", "sketch"]
    saved = save_config(cfg, tmp_path / "out" / "config.yaml")
    assert load_config(Run, path=saved) == cfg
    assert config_hash(cfg) == config_hash(load_config(Run, path=saved))
    assert config_hash(cfg) != config_hash(Run())


def test_unknown_config_key_is_a_clear_error(tmp_path):
    with pytest.raises(SteervisError, match="Did you mean 'train.lr'|Unknown config key"):
        load_config(Run, overrides=["train.lrr=1"])
