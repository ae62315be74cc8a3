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

import numpy as np
import pytest
import torch
from PIL import Image
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


def lm_pipelines() -> None:
    from steervis import zoo
    from steervis.lm.adapters import add_lora
    from steervis.lm.batch import Example
    from steervis.lm.config import LoraSettings, TrainSettings
    from steervis.lm.generate import generate
    from steervis.lm.model import LanguageModel
    from steervis.lm.scoring import score
    from steervis.lm.train import train

    lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
    prompts = [lm.prompt("Which animal barks?\nAnswer:"), lm.prompt("A cat")]
    score(lm, prompts, [" cat", " dog", " ice cream"])
    generate(lm, prompts, max_new_tokens=2)
    lm.model = add_lora(lm.model, LoraSettings(dropout=0.0), seed=0)
    examples = [Example.from_prompt_answer(lm.encode(p), lm.encode_answer(a))
                for p, a in (("fur\n### Answer:", " cat"), ("bark\n### Answer:", " dog"))]
    train(lm, lambda epoch: examples, TrainSettings(epochs=1, batch_size=2, max_steps=1), progress=False)


def describe_pipeline(folder: Path) -> None:
    from steervis.data import load_folder, make_toy_dataset
    from steervis.vllavo.describe import DescribeConfig, describe

    toy = make_toy_dataset(folder / "toy", classes=("circle", "square"), per_class=1, size=32)
    vocab = folder / "tags.txt"
    vocab.write_text("dog\ncat\ncircle\nsquare\n")
    config = DescribeConfig(matcher="tiny-clip", tag_vocab=str(vocab), attribute_vocab="", batch_size=2,
                            num_workers=1)
    describe(load_folder(toy).frame, config, progress=False)


def vlm_pipelines() -> None:
    from steervis.llava.model import open_vlm

    images = [Image.new("RGB", (32, 40), (200, 30, 30)), Image.new("RGB", (36, 32), (30, 30, 200))]
    vlm = open_vlm("tiny-vlm")
    vlm.score(images, ["red", "blue"])  # the forward pass, over the KV cache
    vlm.caption(images, beams=1, samples=1, max_new_tokens=2)


def react_pipeline() -> None:
    from steervis.react.train_head import ReactSettings, customize

    rng = np.random.default_rng(0)
    base, pooled = rng.normal(size=(4, 6)), rng.normal(size=(4, 5))
    settings = ReactSettings(epochs=1, hidden=4, batch_size=4)
    customize(base, pooled, base, np.arange(4), settings, progress=False)


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> set[str]:
    import os

    folder = tmp_path_factory.mktemp("placement")
    old = os.environ.get("STEERVIS_HOME")
    os.environ["STEERVIS_HOME"] = str(folder / "home")  # the describe store and features go here
    try:
        with FactoryRecorder() as recorder:
            lm_pipelines()
            describe_pipeline(folder)
            vlm_pipelines()
            react_pipeline()
    finally:
        if old is None:
            os.environ.pop("STEERVIS_HOME", None)
        else:
            os.environ["STEERVIS_HOME"] = old
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
