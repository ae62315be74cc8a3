"""Device and precision spellings: what they resolve to, what every model-loading config accepts, and the one
sentence for anything else."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import torch

from steervis.config import from_dict
from steervis.device import check_device, check_dtype, place, resolve_device, resolve_dtype
from steervis.errors import SteervisError


@pytest.mark.parametrize("name", ["auto", "cpu", "cuda", "cuda:0", "cuda:12"])
def test_accepted_device_spellings(name):
    assert check_device(name) == name


@pytest.mark.parametrize("name", ["mps", "gpu", "CUDA", "cuda:", "cuda:x", "cpu:0", "", None])
def test_other_device_spellings_are_one_sentence_listing_the_accepted_ones(name):
    with pytest.raises(SteervisError) as err:
        resolve_device(name)
    message = str(err.value)
    assert all(s in message for s in ("auto", "cpu", "cuda", "cuda:N")) and "\n" not in message


@pytest.mark.parametrize("name", ["fp32", "half", "float64", "bf16", "int8", "Float32"])
def test_other_dtype_spellings_are_one_sentence_listing_the_accepted_ones(name):
    with pytest.raises(SteervisError) as err:
        resolve_dtype(name, "cpu")
    assert all(s in str(err.value) for s in ("auto", "float32", "bfloat16", "float16"))


def test_auto_on_a_machine_without_cuda_is_the_cpu_in_float32(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    device = resolve_device("auto")
    assert device == torch.device("cpu")
    assert resolve_dtype("auto", device) is torch.float32


def test_auto_on_a_cuda_card_is_bfloat16_where_the_card_supports_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert resolve_dtype("auto", "cuda:1") is torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert resolve_dtype("auto", "cuda") is torch.float32


def test_explicit_dtypes_are_taken_as_given():
    assert [resolve_dtype(n, "cpu") for n in ("float32", "bfloat16", "float16")] == [
        torch.float32, torch.bfloat16, torch.float16]


def test_cuda_asked_for_where_there_is_none_is_a_sentence(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SteervisError, match="CUDA card"):
        resolve_device("cuda:0")


def test_place_casts_floating_weights_and_keeps_integer_buffers():
    module = torch.nn.Linear(2, 2)
    module.register_buffer("ids", torch.arange(3))
    place(module, "cpu", "bfloat16")
    assert module.weight.dtype is torch.bfloat16 and module.ids.dtype is torch.int64
    assert check_dtype("auto") == "auto"


def test_ground_floor_module_imports_without_torch():
    code = "import sys, steervis.device; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def model_loading_configs():
    from steervis.llava.train import StageSettings
    from steervis.methods.by_description import ByDescriptionOptions
    from steervis.methods.linear_probe import LinearProbeOptions
    from steervis.methods.react import ReactOptions
    from steervis.methods.vlm import ClosedOptions, FinetunedOptions, GenerateOptions, ScoreOptions
    from steervis.methods.zeroshot import ZeroShotOptions
    from steervis.react.train_head import ReactSettings
    from steervis.vllavo.decide.config import DecideConfig
    from steervis.vllavo.describe.config import DescribeConfig

    return [DescribeConfig, DecideConfig, StageSettings, ReactSettings, ZeroShotOptions, LinearProbeOptions,
            ByDescriptionOptions, ReactOptions, GenerateOptions, ClosedOptions, ScoreOptions,
            FinetunedOptions]


@pytest.mark.parametrize("cls", model_loading_configs(), ids=lambda c: c.__name__)
def test_every_model_loading_config_has_checked_device_and_dtype(cls):
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    assert defaults["device"] == "auto" and defaults["dtype"] == "auto"
    assert from_dict(cls, {"device": "cuda:1", "dtype": "bfloat16"}).device == "cuda:1"
    for bad in ({"device": "mps"}, {"dtype": "fp32"}):
        with pytest.raises(SteervisError, match="is not one of"):
            from_dict(cls, bad)


def test_device_never_enters_the_describe_key_but_dtype_does():
    from steervis.vllavo.describe.config import DescribeConfig

    base = DescribeConfig()
    assert DescribeConfig(device="cpu").cache_key() == base.cache_key()  # auto is the CPU here
    assert (DescribeConfig(device="cuda:3", dtype="float32").cache_key()
            == DescribeConfig(dtype="float32").cache_key() == base.cache_key())
    assert DescribeConfig(dtype="bfloat16").cache_key() != base.cache_key()
