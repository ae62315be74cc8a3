"""Splicers: put visual tokens into the LM's input embeddings at the image placeholder positions.

Both kinds satisfy the LM core's ``Splicer`` protocol, so scoring, generation and training read images the
way they read text. :class:`ProjectorSplicer` holds steervis' trainable projector (images are cached tower
features ``[tokens, dim]``); :class:`LlavaSplicer` runs a transformers Llava's own vision tower and projector
(``get_image_features``; images are pixel tensors ``[3, h, w]``).

>>> import torch
>>> embeds, ids = torch.zeros(1, 4, 2), torch.tensor([[5, 9, 9, 6]])
>>> place(embeds, ids, 9, [torch.ones(2, 2)])[0, :, 0].tolist()
[0.0, 1.0, 1.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from steervis.errors import SteervisError


def place(embeds: torch.Tensor, ids: torch.Tensor, image_id: int,
          visuals: Sequence[torch.Tensor | None]) -> torch.Tensor:
    """``embeds`` with row ``i``'s placeholder positions replaced by ``visuals[i]`` ``[tokens, h]`` (in
    order)."""
    out = embeds.clone()  # out-of-place for autograd: the token embeddings may be a frozen leaf
    for row, vis in enumerate(visuals):
        slots = (ids[row] == image_id).nonzero().squeeze(1)
        if vis is None:
            if len(slots):
                raise SteervisError("The prompt holds an <image> placeholder but no image was given.")
            continue
        if len(slots) != len(vis):
            raise SteervisError(f"The prompt has {len(slots)} image placeholder tokens for an image of "
                                f"{len(vis)} visual tokens: put exactly one <image> in the prompt.")
        out[row, slots] = vis.to(out.dtype)
    return out


class ProjectorSplicer(torch.nn.Module):
    """Cached tower features → the trainable projector → placeholder positions."""

    def __init__(self, projector: torch.nn.Module, image_id: int):
        super().__init__()
        self.projector = projector
        self.image_id = image_id

    def forward(self, embeds: torch.Tensor, ids: torch.Tensor, images: Sequence[Any]) -> torch.Tensor:
        rows = [i for i, img in enumerate(images) if img is not None]
        visuals: list[torch.Tensor | None] = [None] * len(images)
        if rows:
            param = next(self.projector.parameters())
            stacked = torch.stack([images[i] for i in rows]).to(param.device, param.dtype)
            for i, vis in zip(rows, self.projector(stacked), strict=True):  # one projector call per batch
                visuals[i] = vis
        return place(embeds, ids, self.image_id, visuals)


class LlavaSplicer:
    """Pixels → a transformers Llava's vision tower and projector → placeholder positions."""

    def __init__(self, llava: Any):
        self.llava = llava
        self.image_id = llava.config.image_token_id

    def __call__(self, embeds: torch.Tensor, ids: torch.Tensor, images: Sequence[Any]) -> torch.Tensor:
        rows = [i for i, img in enumerate(images) if img is not None]
        visuals: list[torch.Tensor | None] = [None] * len(images)
        if rows:
            pixels = torch.stack([images[i] for i in rows]).to(embeds.device, self.llava.dtype)
            feats = self.llava.get_image_features(pixel_values=pixels).pooler_output
            for i, vis in zip(rows, feats, strict=True):
                visuals[i] = vis
        return place(embeds, ids, self.image_id, visuals)


def llava_image_tokens(config: Any) -> int:
    """Visual tokens a Llava config puts into the prompt per image (patches, plus CLS under ``full``)."""
    vision = config.vision_config
    patches = (vision.image_size // vision.patch_size) ** 2
    return patches + (1 if config.vision_feature_select_strategy == "full" else 0)
