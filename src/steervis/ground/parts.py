"""The frozen halves of the GLIP-style model: an image trunk (a CNN's grid at stride 16 or 32) and a
contextual text encoder (token states of the whole prompt), each by name, each with a tiny random stand-in
for tests.

* trunks: ``efficientnet-lite0`` (embedded weights; stride 16: the 112-channel output of its fifth stage,
  stride 32: the 320-channel output of its last block) and ``tiny`` (three random convolutions, 16 channels).
* text encoders: ``minilm-l6`` (embedded; 384-wide token states, the sentence encoder's last layer) and
  ``tiny-bert`` (one random BERT layer, 16 wide, on MiniLM's WordPiece vocabulary).

Every image is padded at its right and bottom to a square (white) and resized to ``size`` pixels, so a box
in the grid's unit square maps back by one factor, the square's side.

>>> TrunkSpec("efficientnet-lite0", stride=16, size=320).id
'efficientnet-lite0-s16-320'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from steervis.errors import SteervisError
from steervis.registry import Registry

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)  # ImageNet statistics: what lite0 was trained on
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
LITE0_CHANNELS = {16: 112, 32: 320}  # efficientnet-lite0: stage 5 (stride 16) and the last block (stride 32)
TRUNKS = Registry("grounding trunk")
TEXT_ENCODERS = Registry("grounding text encoder")


@dataclass(frozen=True)
class TrunkSpec:
    """What the trunk computes; :attr:`id` names its feature cache, so different grids never mix."""

    name: str = "efficientnet-lite0"
    stride: int = 32
    size: int = 320  # the scenes' canvas side: no resampling of the training scenes

    def __post_init__(self) -> None:
        TRUNKS.get(self.name)  # an unknown trunk: did-you-mean
        if self.stride not in (16, 32):
            raise SteervisError(f"trunk stride {self.stride} must be 16 or 32.")
        if self.size < self.stride or self.size % self.stride:
            raise SteervisError(f"trunk size {self.size} must be a multiple of its stride {self.stride}.")

    @property
    def id(self) -> str:
        return f"{self.name}-s{self.stride}-{self.size}"

    @property
    def cells(self) -> int:
        return self.size // self.stride


def letterbox(img: Image.Image, size: int) -> tuple[np.ndarray, float]:
    """``[3, size, size]`` normalised pixels of ``img`` padded right and bottom to a square, and the square's
    side in the image's pixels (a unit-square box times it is the box on the image)."""
    img = img.convert("RGB")
    side = max(img.size)
    square = Image.new("RGB", (side, side), "white")
    square.paste(img, (0, 0))
    arr = np.asarray(square.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
    return ((arr - MEAN) / STD).transpose(2, 0, 1), float(side)


def pixels(images: Sequence[Image.Image], size: int) -> tuple[torch.Tensor, list[float]]:
    """A batch of letterboxed images and each one's square side."""
    pairs = [letterbox(img, size) for img in images]
    return torch.from_numpy(np.stack([p for p, _ in pairs])), [s for _, s in pairs]


class Lite0Trunk(torch.nn.Module):
    """efficientnet-lite0 up to stride 16 or 32, frozen, in eval mode."""

    def __init__(self, spec: TrunkSpec, device: str = "auto", dtype: str = "auto"):
        super().__init__()
        from steervis import zoo

        net = zoo.load("efficientnet-lite0", kind="image-classifier", device=device, dtype=dtype).model
        stages = list(net.blocks) if spec.stride == 32 else list(net.blocks)[:5]
        body = torch.nn.Sequential(net.conv_stem, net.bn1, net.act1, *stages)
        self.body = body.eval().requires_grad_(False)
        self.channels = LITE0_CHANNELS[spec.stride]

    @staticmethod
    def channels_at(stride: int) -> int:
        return LITE0_CHANNELS[stride]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class TinyTrunk(torch.nn.Module):
    """Random strided convolutions (seeded) down to the spec's stride: tests' stand-in for a real trunk."""

    def __init__(self, spec: TrunkSpec, device: str = "auto", dtype: str = "auto"):
        super().__init__()
        from steervis.device import place

        with torch.random.fork_rng():
            torch.manual_seed(0)  # the same random trunk in every run, the caller's RNG untouched
            layers: list[torch.nn.Module] = [torch.nn.Conv2d(3, 16, 4, stride=4), torch.nn.ReLU()]
            for _ in range(2 if spec.stride == 16 else 3):
                layers += [torch.nn.Conv2d(16, 16, 3, stride=2, padding=1), torch.nn.ReLU()]
        self.body = place(torch.nn.Sequential(*layers).eval().requires_grad_(False), device, dtype)
        self.channels = 16

    @staticmethod
    def channels_at(stride: int) -> int:
        return 16

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


TRUNKS.register("efficientnet-lite0", Lite0Trunk, help="embedded ImageNet CNN, stride 16 (112 ch) or 32 "
                "(320 ch)")
TRUNKS.register("tiny", TinyTrunk, help="random convolutions, 16 channels (tests)")


@torch.no_grad()  # not inference_mode: training reads these tensors
def trunk_features(trunk: torch.nn.Module, images: Sequence[Image.Image], size: int,
                   batch_size: int = 16) -> tuple[torch.Tensor, list[float]]:
    """``[n, channels, cells, cells]`` float32 grid features on the host, and each image's square side."""
    from steervis.device import beside

    out, sides = [], []
    for start in range(0, len(images), batch_size):
        x, side = pixels(images[start : start + batch_size], size)
        out.append(trunk(beside(x, trunk)).float().cpu())
        sides += side
    return (torch.cat(out) if out else torch.zeros(0)), sides


@dataclass
class TextEncoder:
    """A frozen contextual encoder: a fast tokenizer and a model whose last hidden states are token
    features."""

    model: Any
    tokenizer: Any
    dim: int

    @torch.no_grad()  # not inference_mode: training reads these tensors
    def states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        from steervis.device import beside

        out = self.model(input_ids=beside(input_ids, self.model),
                         attention_mask=beside(attention_mask, self.model))
        return out.last_hidden_state.float().cpu()


def minilm_encoder(device: str = "auto", dtype: str = "auto") -> TextEncoder:
    from steervis import zoo

    bundle = zoo.load("minilm-l6", kind="text-encoder", device=device, dtype=dtype)
    return TextEncoder(bundle.model.eval(), bundle.tokenizer, bundle.model.config.hidden_size)


def tiny_bert_encoder(device: str = "auto", dtype: str = "auto") -> TextEncoder:
    from transformers import BertConfig, BertModel

    from steervis.device import place
    from steervis.zoo.tiny import bert_tokenizer

    tok = bert_tokenizer()
    config = BertConfig(vocab_size=tok.vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=512)
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the same random encoder in every run, the caller's RNG untouched
        model = BertModel(config).eval()
    return TextEncoder(place(model, device, dtype), tok, 16)


TEXT_ENCODERS.register("minilm-l6", minilm_encoder, help="embedded sentence encoder's token states (384)",
                       dim=384)
TEXT_ENCODERS.register("tiny-bert", tiny_bert_encoder, help="one random BERT layer, 16 wide (tests)", dim=16)


def trunk_channels(name: str, stride: int) -> int:
    """A trunk's channel width without building it."""
    return TRUNKS.get(name).channels_at(stride)
