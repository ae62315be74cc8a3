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


def test_hub_rule_takes_only_hub_shaped_names():
    reg = Registry("matcher", hub=lambda name: ("hub", name))
    reg.register("conse", "json:dumps")
    assert reg.get("openai/clip-vit-base-patch32") == ("hub", "openai/clip-vit-base-patch32")
    with pytest.raises(SteervisError, match="Unknown matcher 'conze'. Did you mean 'conse'"):
        reg.get("conze")  # not a hub id: an error, never a silent fallthrough
    with pytest.raises(SteervisError, match="Unknown matcher 'clip'"):
        reg.get("clip")


def test_the_check_runs_when_an_entry_resolves():
    seen = []
    reg = Registry("thing", check=lambda name, obj: seen.append(name))
    reg.register("now", lambda: 1)
    reg.register("later", "json:dumps")
    assert seen == ["now"]
    reg.get("later")
    assert seen == ["now", "later"]


def test_matchers_and_captioners_declare_their_hub_rule():
    from steervis.matchers import MATCHERS
    from steervis.vllavo.describe.captioners import CAPTIONERS

    assert MATCHERS.is_hub_name("openai/clip-vit-large-patch14") and not MATCHERS.is_hub_name("tiny-clop")
    assert CAPTIONERS.is_hub_name("Salesforce/blip-image-captioning-large")
    with pytest.raises(SteervisError, match="Did you mean 'tiny-clip'"):
        MATCHERS.get("tiny-clop")


def test_protocols_datasets_and_benchmarks_are_registries():
    from steervis.data.datasets import DATASETS
    from steervis.eval.benchmarks import BENCHMARKS
    from steervis.eval.protocols import PROTOCOLS

    assert PROTOCOLS.names() == ["detection", "dg", "few-shot", "uda"] and PROTOCOLS.meta("uda")["adapt"]
    assert PROTOCOLS.meta("detection")["frame"] is False  # a whole run of its own: no frame to split
    assert "minidomains" in DATASETS
    for name in BENCHMARKS.names():
        assert callable(BENCHMARKS.get(name)), name
    with pytest.raises(SteervisError, match="Did you mean 'uda'"):
        PROTOCOLS.get("udа")  # a Cyrillic 'а': looks right, is not


def test_run_options_are_checked_when_the_config_is_built():
    from steervis.eval import EvaluateConfig

    # fails on the option as the config is read, before any data folder is looked at
    with pytest.raises(SteervisError, match="runs.zeroshot.options.matchr'. Did you mean 'matcher'"):
        load_config(EvaluateConfig, overrides=["runs=[{method: zeroshot, options: {matchr: conse}}]"])
    with pytest.raises(SteervisError, match="Did you mean 'zeroshot-llm'"):
        EvaluateConfig(runs=[{"method": "zeroshot-lm"}])
    with pytest.raises(SteervisError, match="Did you mean 'max_steps'"):  # a nested option, did-you-mean
        EvaluateConfig(runs=[{"method": "describe-decide", "options": {"train": {"max_stepz": 1}}}])
    with pytest.raises(SteervisError, match="components"):  # the run's parts are the run's, not an option
        EvaluateConfig(runs=[{"method": "describe-decide", "options": {"components": ["tags"]}}])
    with pytest.raises(SteervisError, match="no run has this label"):
        from steervis.eval.config import select_runs

        select_runs(load_config(EvaluateConfig, preset="full"), ["describe-decide@nowhere"])


def test_flags_are_derived_from_the_dataclass():
    import argparse

    from steervis.commands._options import add_field_flags, field_values
    from steervis.vllavo.describe.config import DescribeConfig

    parser = argparse.ArgumentParser()
    add_field_flags(parser, DescribeConfig, ["matcher", "batch_size", "captioner"])
    args = parser.parse_args(["--batch-size", "8", "--matcher", "tiny-clip"])
    assert field_values(args, DescribeConfig, ["matcher", "batch_size", "captioner"]) == {
        "matcher": "tiny-clip", "batch_size": 8, "captioner": None}
    assert "Image-text matcher" in parser.format_help()
