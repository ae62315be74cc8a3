"""Every model kind steervis builds is made where torch's default device says: built under
``torch.device("meta")`` (with :func:`steervis.device.place` holding back, so nothing moves a weight after its
birth), every parameter and buffer is on ``meta``. A weight made on the host by hand (``torch.from_numpy``, a
``device="cpu"``) would show here; on a card it is the weight left behind on the CPU.
"""

from __future__ import annotations

import sys

import pytest
import torch

import steervis.device


def on_meta_only(module: torch.nn.Module) -> list[str]:
    """Names of the parameters and buffers that are not on ``meta``."""
    tensors = [*module.named_parameters(), *module.named_buffers()]
    assert tensors, "a model with no weights proves nothing"
    return [name for name, t in tensors if t.device.type != "meta"]


@pytest.fixture
def meta(monkeypatch):
    """The default device is ``meta`` and ``place`` moves nothing (in every module that imported it)."""
    def keep(module, device="auto", dtype="auto"):
        return module

    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("steervis") and getattr(module, "place", None) is \
                steervis.device.place:
            monkeypatch.setattr(module, "place", keep)
    monkeypatch.setattr(steervis.device, "place", keep)
    with torch.device("meta"):
        yield


def zoo_model(name: str, kind: str):
    return zoo_model_bundle(name, kind).model


def matcher():
    from steervis.matchers import build_matcher

    return build_matcher.__wrapped__("tiny-clip").model  # past the per-process cache: a fresh build


def lm_core():
    from steervis.lm.adapters import add_lora
    from steervis.lm.config import LoraSettings
    from steervis.lm.model import LanguageModel

    return add_lora(LanguageModel(zoo_model_bundle("tiny-llama", "causal-lm")).model, LoraSettings(), seed=0)


def zoo_model_bundle(name: str, kind: str):
    from steervis import zoo

    return zoo.load(name, kind=kind)


def llava_vlm():
    from steervis.llava.vlms import open_vlm

    vlm = open_vlm("tiny-vlm")
    return torch.nn.ModuleList([vlm.lm.model, vlm.lm.splicer.projector])


def llava_tower():
    from steervis.llava.tower import TowerSpec, build_tower

    return build_tower(TowerSpec("clip:tiny-clip", grid=2)).vision


def llava_projector(name: str):
    from steervis.llava.projector import build_projector

    return lambda: build_projector(name, 16, 16)


def react_head():
    from steervis.react.gated_head import GatedResidualHead

    return GatedResidualHead(feature_dim=8, embed_dim=4, hidden=16)


def react_clip():
    from steervis.react.gated_clip import GatedCLIP

    return GatedCLIP(zoo_model("tiny-clip", "clip"), every=1)


BUILDERS = {
    **{f"zoo:{name}": (lambda n=name, k=kind: zoo_model(n, k)) for name, kind in [
        ("tiny-clip", "clip"), ("tiny-blip", "captioner"), ("tiny-llama", "causal-lm"),
        ("tiny-gemma3", "causal-lm"), ("tiny-llava", "vlm")]},
    "matcher:tiny-clip": matcher,
    "lm:tiny-llama+lora": lm_core,
    "llava:tiny-vlm": llava_vlm,
    "llava:tower": llava_tower,
    "llava:projector-linear": llava_projector("linear"),
    "llava:projector-mlp2x_gelu": llava_projector("mlp2x_gelu"),
    "react:gated-head": react_head,
    "react:gated-clip": react_clip,
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_model_kind_is_built_on_the_default_device(name, meta):
    assert on_meta_only(BUILDERS[name]()) == []


def test_a_weight_made_on_the_host_is_caught(meta):
    module = torch.nn.Linear(2, 2)
    module.register_buffer("host", torch.zeros(2, device="cpu"))
    assert on_meta_only(module) == ["host"]
