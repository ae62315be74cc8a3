"""What the zoo hands back: small wrappers that pair a model with its preprocessing.

>>> from steervis.zoo import load
>>> clf = load("efficientnet-lite0", kind="image-classifier")  # doctest: +SKIP
>>> clf.predict_topk([image], k=3)  # doctest: +SKIP
[[(285, 'Egyptian cat', 0.41), ...]]
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def pad_to_square(img: Image.Image, fill: str | tuple[int, ...] = "white") -> Image.Image:
    """Letterbox onto a square canvas, so a centre crop keeps the whole object."""
    side = max(img.size)
    if img.size == (side, side):
        return img
    canvas = Image.new("RGB", (side, side), fill)
    canvas.paste(img, ((side - img.size[0]) // 2, (side - img.size[1]) // 2))
    return canvas


def imagenet_preprocess(images: list[Image.Image], size: int = 224, crop_pct: float = 0.875,
                        pad_square: bool = True) -> torch.Tensor:
    """(Pad to square,) resize the short side to size/crop_pct, centre-crop ``size``, normalise.

    Padding is on by default: cut-outs, clip art and emoji are often elongated (an airplane, a banana) and the
    plain ImageNet recipe would crop them away; on minidomains photos it turned "hatchet" into "banana".
    """
    scale = int(round(size / crop_pct))
    out = np.empty((len(images), 3, size, size), dtype=np.float32)
    for i, img in enumerate(images):
        img = img.convert("RGB")
        img = pad_to_square(img) if pad_square else img
        w, h = img.size
        r = scale / min(w, h)
        img = img.resize((max(size, round(w * r)), max(size, round(h * r))), Image.Resampling.BICUBIC)
        w, h = img.size
        left, top = (w - size) // 2, (h - size) // 2
        arr = np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.float32) / 255.0
        out[i] = ((arr - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)
    return torch.from_numpy(out)


@dataclass
class ImageClassifier:
    """An ImageNet classifier that also gives pooled and grid features (EfficientNet-style backbones)."""

    model: torch.nn.Module
    class_names: list[str]
    name: str = ""
    input_size: int = 224
    pad_square: bool = True

    @property
    def preprocess_id(self) -> str:
        """Names the preprocessing, so cached features from a different recipe are never mixed in."""
        return f"{self.input_size}{'-pad' if self.pad_square else ''}"

    def preprocess(self, images: list[Image.Image]) -> torch.Tensor:
        return imagenet_preprocess(images, self.input_size, pad_square=self.pad_square)

    @torch.inference_mode()
    def forward_all(self, pixels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One pass → ``grid`` [n, c, h, w], ``pooled`` [n, c], ``logits`` [n, 1000]."""
        from steervis.device import beside

        grid = self.model.features(beside(pixels, self.model))
        pooled = grid.mean(dim=(2, 3))
        return {"grid": grid, "pooled": pooled, "logits": self.model.classifier(pooled)}

    def probs(self, pixels: torch.Tensor) -> torch.Tensor:
        return F.softmax(self.forward_all(pixels)["logits"], dim=-1)

    def for_inference(self) -> ImageClassifier:
        """A copy that only infers, faster: conv+BN folded by torch.fx and channels_last memory. On one CPU
        thread efficientnet-lite0 ran a 224² batch of 64 at 45 ms an image instead of 126 (logits within
        2e-5). This classifier stays as it is (others fine-tune it or cache features of its exact outputs);
        a model not in float32 comes back unchanged (folding rounds the folded weights to its precision)."""
        if next(self.model.parameters()).dtype != torch.float32:
            return self
        with warnings.catch_warnings():  # torch.fx's optimization module defines torch.jit.script_methods
            warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=DeprecationWarning)
            from torch.fx.experimental.optimization import fuse

            features = fuse(_Features(self.model).eval())  # a deep copy traced: the original keeps its BNs
            features = features.to(memory_format=torch.channels_last)
        folded = _ChannelsLast(features, copy.deepcopy(self.model.classifier))
        return dataclasses.replace(self, model=folded.eval())

    def predict_topk(self, images: list[Image.Image], k: int = 5) -> list[list[tuple[int, str, float]]]:
        probs = self.probs(self.preprocess(images))
        top = probs.topk(k, dim=-1)
        return [
            [(int(i), self.class_names[int(i)], float(p)) for p, i in zip(ps, idx, strict=True)]
            for ps, idx in zip(top.values, top.indices, strict=True)
        ]


class _Features(torch.nn.Module):
    """A backbone's ``features`` as a module's forward, so torch.fx can trace it."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.features(pixels)


class _ChannelsLast(torch.nn.Module):
    """Folded ``features`` fed channels_last pixels, and the classifier: what ``forward_all`` calls."""

    def __init__(self, folded: torch.nn.Module, classifier: torch.nn.Module):
        super().__init__()
        self.folded, self.classifier = folded, classifier

    def features(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.folded(pixels.contiguous(memory_format=torch.channels_last))


@dataclass
class TextEncoder:
    """Sentence embeddings by mean pooling over tokens, L2-normalised (the sentence-transformers recipe)."""

    model: torch.nn.Module
    tokenizer: Any
    name: str = ""
    max_length: int = 128
    _memo: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @torch.inference_mode()
    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """[len(texts), d] float32, unit norm; repeated texts are embedded once per encoder."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            batch = self.tokenizer(
                chunk, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
            )
            from steervis.device import beside

            batch = {k: beside(v, self.model) for k, v in batch.items()}
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            emb = F.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)
            self._memo.update(zip(chunk, emb.float().cpu().numpy(), strict=True))
        if not texts:
            return np.zeros((0, self.model.config.hidden_size), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts])


@dataclass
class CausalLM:
    """A causal language model and its tokenizer."""

    model: Any
    tokenizer: Any
    name: str = ""


@dataclass
class VisionTextModel:
    """A transformers vision-language model (CLIP, BLIP, LLaVA) and its processor."""

    model: Any
    processor: Any
    name: str = ""
