"""Every tensor steervis makes says where it goes: a ``TorchFunctionMode`` watches the tiny pipelines (LM
class scoring, generation and a training step; describe with a tiny matcher; the tiny VLM's forward pass and
generation; a REACT gated-head training step) and records each tensor-factory call made without a ``device``
keyword, by its call site in src/steervis (``path:function``). A call on a CUDA card from such a site builds
its tensor on the CPU, beside weights on the card: there are none, and a new one fails (pass ``device=...``,
the model's own device).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from tiny_pipelines import run_all
from torch.overrides import TorchFunctionMode

import steervis

SRC = Path(steervis.__file__).resolve().parent
FACTORIES = {torch.tensor, torch.as_tensor, torch.zeros, torch.ones, torch.full, torch.arange, torch.empty,
             torch.rand, torch.randn, torch.randint, torch.randperm}
HERE = {__file__, torch.overrides.__file__}  # the recorder's own frames


def call_site(frame) -> str | None:
    """``path:function`` of the innermost caller when it is steervis code; ``None`` for torch, transformers,
    peft or test code (they are not steervis' to fix)."""
    while frame is not None and frame.f_code.co_filename in HERE:
        frame = frame.f_back
    if frame is None:
        return None
    path = Path(frame.f_code.co_filename)
    if not path.is_relative_to(SRC):
        return None
    return f"{path.relative_to(SRC).as_posix()}:{frame.f_code.co_name}"


class FactoryRecorder(TorchFunctionMode):
    """Records the steervis call sites of tensor factories called without ``device=``."""

    def __init__(self) -> None:
        super().__init__()
        self.sites: set[str] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in FACTORIES and "device" not in kwargs:
            site = call_site(sys._getframe(1))
            if site:
                self.sites.add(site)
        return func(*args, **kwargs)


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> set[str]:
    with FactoryRecorder() as recorder:
        run_all(tmp_path_factory.mktemp("placement"))
    return recorder.sites


def test_no_tensor_is_made_without_a_device(sites):
    assert not sites, "\n".join(f"{site} makes a tensor without a device: pass device=..."
                                 for site in sorted(sites))


def test_the_recorder_sees_a_steervis_site_and_passes_an_explicit_device():
    namespace = {"torch": torch}
    code = "def make():\n    torch.zeros(2, device='cpu')\n    return torch.arange(3)\n"
    exec(compile(code, str(SRC / "fake_module.py"), "exec"), namespace)
    with FactoryRecorder() as recorder:
        namespace["make"]()
        torch.zeros(2)  # test code: not steervis' call site
    assert recorder.sites == {"fake_module.py:make"}
