"""A CLIP vision tower for steervis' LLaVA: the penultimate layer's patch tokens, CLS dropped, as LLaVA reads
them.

LLaVA feeds its projector CLIP ViT-L/14's second-to-last layer, patch tokens only
(``hidden_states[-2][:, 1:]``): the last layer is shaped by the contrastive objective, the one before keeps
more general, spatial detail. Here the patch tokens (24×24 for ``openai/clip-vit-large-patch14-336``) go back
on their square grid and are average-pooled to ``grid × grid`` (at most 16 tokens, as every steervis tower).
Each image is first padded to a square in the processor's mean colour (LLaVA-1.5's ``pad`` aspect ratio), so
the processor's centre crop keeps all of it.

``clip:tiny-clip`` is the zoo's random tiny CLIP (tests); a hub id (or a saved CLIP folder) loads
``CLIPVisionModel`` and the hub's image processor (offline and not cached: one sentence).

>>> from steervis.llava.tower import TowerSpec, build_tower
>>> tower = build_tower(TowerSpec("clip:openai/clip-vit-large-patch14-336"))  # doctest: +SKIP
>>> tower.encode([image]).shape  # doctest: +SKIP
torch.Size([1, 16, 1024])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from steervis.device import beside
from steervis.errors import SteervisError
from steervis.llava.tower import TowerSpec, pool_grid

LAYERS = {"penultimate": -2, "last": -1}  # index into the encoder's hidden_states (0 is the embeddings)
KIND = "vision-tower"  # the zoo kind named in the offline error's advice


def _is_hub(model: str) -> bool:
    from steervis.zoo.core import HUB_KIND, entry

    return entry(model).kind == HUB_KIND  # a misspelt zoo name: did-you-mean error


def _hub_vision(model_id: str, dtype: Any = torch.float32, **kwargs: Any) -> tuple[Any, Any]:
    from transformers import AutoImageProcessor, CLIPVisionModel

    from steervis.zoo.placement import load_model

    # From a full CLIP checkpoint transformers reports the text weights it leaves out: expected, as in LLaVA.
    vision = load_model(CLIPVisionModel, model_id, {"dtype": dtype, "attn_implementation": "sdpa"}, **kwargs)
    return vision, AutoImageProcessor.from_pretrained(model_id, **kwargs)


def load_vision(model: str, device: str = "auto", dtype: str = "auto") -> tuple[Any, Any]:
    """``(CLIPVisionModel, image processor)`` of a zoo CLIP (``tiny-clip``) or a hub id, on ``device`` in
    ``dtype`` (auto on the CPU: float32, never half)."""
    import functools

    from steervis import zoo
    from steervis.device import place, resolve
    from steervis.zoo.core import load_from_hub

    if _is_hub(model):
        vision, processor = load_from_hub(model, KIND, functools.partial(_hub_vision,
                                                                         dtype=resolve(device, dtype)[1]))
        return place(vision, device, dtype), processor
    bundle = zoo.load(model, kind="clip", device=device, dtype=dtype)
    return bundle.model.vision_model, bundle.processor.image_processor


def vision_config(model: str) -> Any:
    """The ``CLIPVisionConfig`` of a zoo CLIP or a hub id (the hub reads config.json only, not the
    weights)."""
    from transformers import CLIPVisionConfig

    from steervis import zoo
    from steervis.zoo.core import load_from_hub

    if _is_hub(model):
        return load_from_hub(model, KIND, CLIPVisionConfig.from_pretrained)  # a full CLIP's vision_config too
    return zoo.load(model, kind="clip").model.config.vision_config


class CLIPTower:
    """PIL images → ``[n, grid², hidden_size]``: a CLIP layer's patch tokens on their grid, pooled; frozen,
    CPU."""

    layers = tuple(LAYERS)
    model_help = "hub id or tiny-clip"
    preprocess = "pad"  # pad to square in the processor's mean colour, then the processor's own recipe

    def __init__(self, spec: TowerSpec, vision: Any = None, processor: Any = None, device: str = "auto",
                 dtype: str = "auto"):
        self.spec = spec
        self.vision, self.processor = ((vision, processor) if vision is not None
                                       else load_vision(spec.model, device, dtype))
        self.vision.eval().requires_grad_(False)

    @staticmethod
    def dim(spec: TowerSpec) -> int:
        return vision_config(spec.model).hidden_size

    def pixels(self, images: Sequence[Any]) -> torch.Tensor:
        from steervis.zoo.bundles import pad_to_square

        fill = tuple(round(255 * m) for m in self.processor.image_mean)
        squares = [pad_to_square(img.convert("RGB"), fill) for img in images]
        return self.processor(squares, return_tensors="pt")["pixel_values"].float()

    @torch.inference_mode()
    def encode(self, images: Sequence[Any], batch_size: int = 16) -> torch.Tensor:
        if not images:
            return torch.zeros((0, self.spec.tokens, self.vision.config.hidden_size))
        out = []
        for start in range(0, len(images), batch_size):
            pixels = beside(self.pixels(images[start : start + batch_size]), self.vision)
            hidden = (self.vision(pixel_values=pixels, output_hidden_states=True)
                      .hidden_states[LAYERS[self.spec.layer]])
            patches = hidden[:, 1:]  # CLS dropped: LLaVA's "patch" feature selection
            side = math.isqrt(patches.shape[1])
            if side * side != patches.shape[1]:
                raise SteervisError(f"{self.spec.name} gives {patches.shape[1]} patch tokens, not a square "
                                    "grid.")
            grid = patches.transpose(1, 2).reshape(len(patches), -1, side, side)  # patches are row-major
            out.append(pool_grid(grid, self.spec.grid).float().cpu())  # cached on the host, in float32
        return torch.cat(out)
