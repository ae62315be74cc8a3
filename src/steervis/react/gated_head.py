"""REACT's gated residual block for the image side of a matcher: the identity until training opens its gate.

Trained by :mod:`steervis.react.train_head`, loaded by the ``react-pool`` matcher
(:mod:`steervis.react.matchers`).

>>> import torch
>>> head = GatedResidualHead(feature_dim=8, embed_dim=4, hidden=16)
>>> base = torch.nn.functional.normalize(torch.randn(2, 4), dim=-1)
>>> torch.allclose(head(base, torch.randn(2, 8)), base)
True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class GatedResidualHead(torch.nn.Module):
    """``normalise(base + tanh(gate) · MLP(features))`` with the gate at 0: the identity at initialisation."""

    def __init__(self, feature_dim: int = 1280, embed_dim: int = 384, hidden: int = 512):
        super().__init__()
        self.mlp = torch.nn.Sequential(torch.nn.LayerNorm(feature_dim), torch.nn.Linear(feature_dim, hidden),
                                       torch.nn.GELU(), torch.nn.Linear(hidden, embed_dim))
        # beside the MLP's weights: on meta under a meta-device context, never a stray host tensor
        self.gate = torch.nn.Parameter(torch.zeros((), device=self.mlp[1].weight.device))

    def forward(self, base: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(base + torch.tanh(self.gate) * self.mlp(features), dim=-1)
