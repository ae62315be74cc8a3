"""Matchers customized REACT's way: a frozen base matcher plus a gated head trained by steervis.retrieval.

This floor only loads what retrieval/ trains (``head.safetensors`` + ``card.json``): a matcher by name must
not import the training code. ``react-pool`` lives in ``STEERVIS_HOME/models/react-pool``.

>>> import torch
>>> head = GatedResidualHead(feature_dim=8, embed_dim=4, hidden=16)
>>> base = torch.nn.functional.normalize(torch.randn(2, 4), dim=-1)
>>> torch.allclose(head(base, torch.randn(2, 8)), base)
True
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from steervis.errors import SteervisError


class GatedResidualHead(torch.nn.Module):
    """``normalise(base + tanh(gate) · MLP(features))`` with the gate at 0: the identity at initialisation."""

    def __init__(self, feature_dim: int = 1280, embed_dim: int = 384, hidden: int = 512):
        super().__init__()
        self.mlp = torch.nn.Sequential(torch.nn.LayerNorm(feature_dim), torch.nn.Linear(feature_dim, hidden),
                                       torch.nn.GELU(), torch.nn.Linear(hidden, embed_dim))
        self.gate = torch.nn.Parameter(torch.zeros(()))

    def forward(self, base: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(base + torch.tanh(self.gate) * self.mlp(features), dim=-1)


class ReactMatcher:
    """The base ConSE matcher with a trained gated head on its image side; its text side is ConSE's, locked."""

    def __init__(self, directory: str | Path, name: str = "react-pool"):
        from safetensors.torch import load_file

        from steervis.describe.matchers import ConSEMatcher

        directory = Path(directory)
        if not (directory / "card.json").exists():
            raise SteervisError(f"The {name} matcher is not built ({directory} is empty): run "
                                "`steervis react build-pool` (after `steervis data build pool`), or use conse.")
        self.card = json.loads((directory / "card.json").read_text())
        self.base = ConSEMatcher()
        state = load_file(str(directory / "head.safetensors"))
        hidden = state["mlp.1.weight"].shape[0]
        self.head = GatedResidualHead(state["mlp.1.weight"].shape[1], state["mlp.3.weight"].shape[0], hidden)
        self.head.load_state_dict(state)
        self.head.eval()
        self.name = name
        self.class_embeddings, self.classifier, self.top_t = (self.base.class_embeddings, self.base.classifier,
                                                              self.base.top_t)
        self.version = f"{self.base.version}-{self.card.get('pool_hash', '')}-{self.card.get('head_hash', '')}"  # names cached embeddings
        self.provenance = {"matcher": name, "base": "conse", "pool_hash": self.card.get("pool_hash"),
                           "head": self.card.get("settings")}

    def preprocess(self, images: list[Any]) -> Any:
        return self.base.preprocess(images)

    @torch.inference_mode()
    def encode_pixels(self, pixels: Any, return_probs: bool = False) -> Any:
        """Customized embeddings (and, like ConSE, the ImageNet probabilities for the imagenet tagger)."""
        out = self.base.classifier.forward_all(pixels)
        base, probs = self.base.embed_logits(out["logits"], return_probs=True)
        emb = self.head(torch.as_tensor(base), out["pooled"]).numpy()
        return (emb, probs) if return_probs else emb

    def encode_images(self, images: list[Any]) -> np.ndarray:
        return self.encode_pixels(self.preprocess(images))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        return self.base.encode_texts(texts)
