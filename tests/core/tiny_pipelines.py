"""The tiny pipelines the device tests watch: LM class scoring, generation and a LoRA training step; describe
with a tiny matcher and captioner; the tiny VLM's scoring and captions; REACT's gated head (a training step
and its use) and gated CLIP (a training step). Each takes the ``dtype`` its models load in."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image


def lm_pipelines(dtype: str = "auto") -> None:
    from steervis import zoo
    from steervis.lm.adapters import add_lora
    from steervis.lm.batch import Example
    from steervis.lm.config import LoraSettings, TrainSettings
    from steervis.lm.generate import generate
    from steervis.lm.model import LanguageModel
    from steervis.lm.scoring import score
    from steervis.lm.train import train

    lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm", dtype=dtype))
    prompts = [lm.prompt("Which animal barks?\nAnswer:"), lm.prompt("A cat")]
    score(lm, prompts, [" cat", " dog", " ice cream"])
    generate(lm, prompts, max_new_tokens=2)
    lm.model = add_lora(lm.model, LoraSettings(dropout=0.0), seed=0)
    examples = [Example.from_prompt_answer(lm.encode(p), lm.encode_answer(a))
                for p, a in (("fur\n### Answer:", " cat"), ("bark\n### Answer:", " dog"))]
    train(lm, lambda epoch: examples, TrainSettings(epochs=1, batch_size=2, max_steps=1), progress=False)


def describe_pipeline(folder: Path, dtype: str = "auto") -> None:
    from steervis.data import load_folder, make_toy_dataset
    from steervis.vllavo.describe import DescribeConfig, describe

    toy = make_toy_dataset(folder / "toy", classes=("circle", "square"), per_class=1, size=32)
    vocab = folder / "tags.txt"
    vocab.write_text("dog\ncat\ncircle\nsquare\n")
    config = DescribeConfig(matcher="tiny-clip", captioner="tiny-blip", tag_vocab=str(vocab),
                            attribute_vocab="", batch_size=2, num_workers=1, dtype=dtype)
    describe(load_folder(toy).frame, config, progress=False)


def vlm_pipelines(dtype: str = "auto") -> None:
    from steervis.llava.vlms import open_vlm

    images = [Image.new("RGB", (32, 40), (200, 30, 30)), Image.new("RGB", (36, 32), (30, 30, 200))]
    vlm = open_vlm("tiny-vlm", dtype=dtype)
    vlm.score(images, ["red", "blue"])  # the forward pass, over the KV cache
    vlm.caption(images, beams=1, samples=1, max_new_tokens=2)


def react_pipeline(folder: Path, dtype: str = "auto") -> None:
    from steervis.react.train_clip import customize_clip
    from steervis.react.train_head import ReactSettings, apply_head, customize

    rng = np.random.default_rng(0)
    base, pooled = rng.normal(size=(4, 6)), rng.normal(size=(4, 5))
    settings = ReactSettings(epochs=1, hidden=4, batch_size=4, dtype=dtype)
    head, _ = customize(base, pooled, base, np.arange(4), settings, progress=False)
    apply_head(head, base, pooled)
    paths = []
    for i, colour in enumerate([(200, 30, 30), (30, 30, 200)]):
        paths.append(str(folder / f"react-{i}.png"))
        Image.new("RGB", (32, 32), colour).save(paths[-1])
    customize_clip("tiny-clip", paths, ["red", "blue"], np.arange(2), settings, progress=False)


def run_all(folder: Path, dtype: str = "auto") -> None:
    """Every pipeline, with describe's store under ``folder`` (never the user's cache)."""
    old = os.environ.get("STEERVIS_HOME")
    os.environ["STEERVIS_HOME"] = str(folder / "home")
    try:
        lm_pipelines(dtype)
        describe_pipeline(folder, dtype)
        vlm_pipelines(dtype)
        react_pipeline(folder, dtype)
    finally:
        if old is None:
            os.environ.pop("STEERVIS_HOME", None)
        else:
            os.environ["STEERVIS_HOME"] = old
