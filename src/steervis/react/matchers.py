"""REACT's customized matchers, as the matcher registry loads them: ``react-pool`` (ConSE plus a gated head
trained on the whole knowledge pool) and any folder :mod:`steervis.react.build` saved (a task's ``react``).

Each keeps its base's text side, locked, and its image side passes through trained gated blocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from steervis.card import has_card, read_card
from steervis.errors import SteervisError
from steervis.identity import folder_identity
from steervis.matchers.clip import CLIPMatcher
from steervis.matchers.conse import ConSEMatcher
from steervis.paths import steervis_home

REACT_KINDS = ("react-head", "react-clip")  # the model cards a customized matcher's folder holds


def react_pool_dir() -> Path:
    """Where ``steervis react build`` saves the pool-customized matcher (not created here: asking where it
    is, as ``--print-config`` does, writes nothing)."""
    return steervis_home() / "models" / "react-pool"


def react_pool_identity() -> str:
    """What the ``react-pool`` matcher is: its head weights and card, so a rebuilt head is a new describer."""
    return folder_identity("react-pool", react_pool_dir())


def customized_identity(directory: str | Path) -> str:
    """A customized matcher's kind and the hash of its card and weights: what it is, wherever it is stored."""
    directory = Path(directory)
    kind = read_card(directory, kind=REACT_KINDS).kind.removeprefix("react-")
    return folder_identity(f"customized-{kind}", directory)


class ReactMatcher:
    """The base ConSE matcher with a trained gated head on its image side; its text side is ConSE's,
    locked."""

    class_probs = True  # the frozen classifier still gives ImageNet probabilities (imagenet tagger)
    disk_cache = True
    text_name = "conse"  # the text tower is ConSE's, locked: its cached embeddings are shared

    def __init__(self, directory: str | Path, name: str = "react-pool", device: str = "auto",
                 dtype: str = "auto"):
        from safetensors.torch import load_file

        from steervis.device import place
        from steervis.react.gated_head import GatedResidualHead

        directory = Path(directory)
        if not has_card(directory):
            raise SteervisError(f"The {name} matcher is not built ({directory} is empty): run "
                                "`steervis react build` (after `steervis data build pool`), or use "
                                "conse.")
        self.card = read_card(directory, kind="react-head")
        self.base = ConSEMatcher(image=self.card.react.image or "efficientnet-lite0", device=device,
                                 dtype=dtype)
        state = load_file(str(directory / "head.safetensors"))
        hidden = state["mlp.1.weight"].shape[0]
        self.head = GatedResidualHead(state["mlp.1.weight"].shape[1], state["mlp.3.weight"].shape[0], hidden)
        self.head.load_state_dict(state)
        place(self.head, device, dtype).eval()
        self.name, self.precision = name, self.base.precision
        self.class_embeddings, self.classifier, self.top_t = (self.base.class_embeddings,
                                                              self.base.classifier, self.base.top_t)
        react = self.card.react
        self.version = f"{self.base.version}-{react.pool_hash}-{react.head_hash}"  # names cached embeddings
        self.provenance = {"matcher": name, "base": self.base.name, "pool_hash": react.pool_hash,
                           "head": self.card.config}

    def preprocess(self, images: list[Any]) -> Any:
        return self.base.preprocess(images)

    def encode_pixels(self, pixels: Any, return_probs: bool = False) -> Any:
        """Customized embeddings (and, like ConSE, the ImageNet probabilities for the imagenet tagger)."""
        import torch

        with torch.inference_mode():
            return self._encode(pixels, return_probs)

    def _encode(self, pixels: Any, return_probs: bool) -> Any:
        out = self.base.classifier.forward_all(pixels)
        base, probs = self.base.embed_logits(out["logits"], return_probs=True)
        emb = self.embed_features(base, out["pooled"])
        return (emb, probs) if return_probs else emb

    def embed_features(self, base: Any, pooled: Any) -> np.ndarray:
        """Customized embeddings from the base's ConSE embeddings and pooled backbone features (cached ones
        too)."""
        import torch

        from steervis.device import beside

        with torch.inference_mode():
            base, pooled = (beside(torch.as_tensor(x), self.head) for x in (base, pooled))
            return self.head(base, pooled).float().cpu().numpy()

    def encode_images(self, images: list[Any]) -> np.ndarray:
        return self.encode_pixels(self.preprocess(images))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        return self.base.encode_texts(texts)


class ReactCLIPMatcher(CLIPMatcher):
    """A CLIP (hub id, or tiny-clip in tests) with REACT's trained gated blocks in its image tower."""

    class_probs = False

    def __init__(self, directory: str | Path, name: str = "react", device: str = "auto", dtype: str = "auto"):
        from safetensors.torch import load_file

        from steervis.device import place
        from steervis.react.gated_clip import GatedCLIP

        directory = Path(directory)
        if not has_card(directory):
            raise SteervisError(f"The {name} matcher is not built ({directory} is empty).")
        self.card = read_card(directory, kind="react-clip")
        super().__init__(self.card.base, disk_cache=self.card.base != "tiny-clip", device=device, dtype=dtype)
        self.model = GatedCLIP(self.model, every=self.card.react.every)
        self.model.blocks.load_state_dict(load_file(str(directory / "blocks.safetensors")))
        place(self.model, device, dtype).eval()
        self.text_name, self.name = self.card.base, name  # text tower locked: the base's text caches hold
        self.version = f"{self.card.base}-{self.card.react.head_hash}"  # names cached image embeddings
        self.provenance = {"matcher": name, "base": self.card.base, "pool_hash": self.card.react.pool_hash}


def load_customized(directory: str | Path, name: str = "react", device: str = "auto",
                    dtype: str = "auto") -> Any:
    """A customized matcher saved by :mod:`steervis.react` (its card says which kind), on ``device`` in
    ``dtype``."""
    kind = read_card(directory, kind=REACT_KINDS).kind if has_card(directory) else "react-head"
    return (ReactCLIPMatcher if kind == "react-clip" else ReactMatcher)(directory, name=name, device=device,
                                                                          dtype=dtype)


class ReactPool:
    """The ``react-pool`` registry entry: builds the matcher (a clear error until it is built) and says what
    it is."""

    def __call__(self, device: str = "auto", dtype: str = "auto") -> ReactMatcher:
        return ReactMatcher(react_pool_dir(), name="react-pool", device=device, dtype=dtype)

    @staticmethod
    def identity() -> str:
        return react_pool_identity()


class CustomizedFolder:
    """The loader of a customized matcher's folder, and its identity (kind + hash of card and weights)."""

    def __call__(self, directory: str | Path, name: str = "react", device: str = "auto",
                 dtype: str = "auto") -> Any:
        return load_customized(directory, name=name, device=device, dtype=dtype)

    @staticmethod
    def identity(directory: str | Path) -> str:
        return customized_identity(directory)


REACT_POOL = ReactPool()
CUSTOMIZED = CustomizedFolder()
