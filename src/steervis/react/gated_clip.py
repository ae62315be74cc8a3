"""REACT on a transformers ``CLIPModel``: every original weight frozen, gated blocks inserted in the image
tower.

REACT's locked-text gated-image tuning (Liu et al., CVPR 2023): new gated self-attention dense blocks go
between the frozen layers of the vision encoder, each ``x + tanh(a)·Attn(LN(x))`` then
``x + tanh(b)·MLP(LN(x))`` with ``a = b = 0`` at the start (Flamingo's gates), so the customized model equals
the base model until training opens a gate. The text tower is never touched. Any CLIP hub id works (for people
with a network); tests use the tiny random ``CLIPConfig`` of the zoo. Trained by
:mod:`steervis.react.train_clip`; loaded by the ``react`` matchers of :mod:`steervis.react.matchers`.

>>> import torch
>>> from steervis import zoo
>>> clip = zoo.load("tiny-clip", kind="clip").model
>>> pixels = torch.randn(2, 3, 32, 32)
>>> before = clip.get_image_features(pixel_values=pixels).pooler_output
>>> gated = GatedCLIP(clip)
>>> torch.allclose(gated.get_image_features(pixel_values=pixels).pooler_output, before, atol=1e-6)
True
"""

from __future__ import annotations

from typing import Any

import torch

# A block after every EVERY-th frozen layer: REACT inserts them between the original layers; every other one
# keeps the new parameters near half a vision tower's.
EVERY = 2


class GatedBlock(torch.nn.Module):
    """Gated self-attention then gated dense layer; both gates at 0, so the block starts as the identity."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int = 4):
        super().__init__()
        self.ln_attn, self.ln_mlp = torch.nn.LayerNorm(dim), torch.nn.LayerNorm(dim)
        self.attn = torch.nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(dim, mlp_ratio * dim), torch.nn.GELU(),
                                       torch.nn.Linear(mlp_ratio * dim, dim))
        # beside the block's weights: on meta under a meta-device context, never a stray host tensor
        self.attn_gate = torch.nn.Parameter(torch.zeros((), device=self.mlp[0].weight.device))
        self.mlp_gate = torch.nn.Parameter(torch.zeros((), device=self.mlp[0].weight.device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln_attn(x)
        x = x + torch.tanh(self.attn_gate) * self.attn(h, h, h, need_weights=False)[0]
        return x + torch.tanh(self.mlp_gate) * self.mlp(self.ln_mlp(x))


class GatedCLIP(torch.nn.Module):
    """A frozen ``CLIPModel`` with :class:`GatedBlock` s after every ``every``-th vision encoder layer.

    Exposes ``get_image_features`` / ``get_text_features`` / ``config`` like the model it wraps, so
    :class:`~steervis.matchers.clip.CLIPMatcher` drives it unchanged. Only ``blocks`` is trainable; its
    ``state_dict`` is all a customized matcher saves.
    """

    def __init__(self, clip: Any, every: int = EVERY):
        super().__init__()
        self.clip, self.every = clip, every
        clip.requires_grad_(False)
        vision = clip.config.vision_config
        layers = clip.vision_model.encoder.layers
        after = [i for i in range(len(layers)) if (i + 1) % every == 0]
        self.blocks = torch.nn.ModuleDict({str(i): GatedBlock(vision.hidden_size, vision.num_attention_heads)
                                           for i in after})
        self._hooks = [layers[i].register_forward_hook(self._hook(str(i))) for i in after]

    def _hook(self, key: str) -> Any:
        def run(module: Any, args: Any, output: Any) -> Any:
            if isinstance(output, tuple):  # older transformers return (hidden_states, ...)
                return (self.blocks[key](output[0]), *output[1:])
            return self.blocks[key](output)

        return run

    @property
    def config(self) -> Any:
        return self.clip.config

    def get_image_features(self, **kwargs: Any) -> Any:
        return self.clip.get_image_features(**kwargs)

    def get_text_features(self, **kwargs: Any) -> Any:
        return self.clip.get_text_features(**kwargs)

    def gates(self) -> list[float]:
        """``tanh`` of every gate, in block order (all 0 before training)."""
        return [float(torch.tanh(g.detach())) for b in self.blocks.values()
                for g in (b.attn_gate, b.mlp_gate)]

    def train(self, mode: bool = True) -> GatedCLIP:
        super().train(mode)
        self.clip.eval()  # the frozen model stays in eval mode (no dropout), whatever the blocks do
        return self
