"""Projectors from visual tokens to LM embeddings, named as LLaVA names them.

``linear`` is LLaVA's; ``mlp2x_gelu`` (Linear → GELU → Linear) is LLaVA-1.5's, and ``mlp{N}x_gelu`` stacks N
linear layers with GELU between them. ``mlp2x_gelu`` and ``linear`` are registered; any ``mlpNx_gelu`` is
parsed.

>>> build_projector("mlp2x_gelu", 320, 576)
Sequential(
  (0): Linear(in_features=320, out_features=576, bias=True)
  (1): GELU(approximate='none')
  (2): Linear(in_features=576, out_features=576, bias=True)
)
>>> build_projector("mlp3x_gelu", 8, 4)[-1].out_features
4
"""

from __future__ import annotations

import re

import torch

from steervis.errors import SteervisError
from steervis.registry import Registry

PROJECTORS = Registry("projector")
_MLP = re.compile(r"mlp(\d+)x_gelu")


def mlp_gelu(in_dim: int, out_dim: int, depth: int = 2) -> torch.nn.Sequential:
    """``depth`` linear layers, GELU between them (the first maps to the LM width, the rest keep it)."""
    layers: list[torch.nn.Module] = [torch.nn.Linear(in_dim, out_dim)]
    for _ in range(depth - 1):
        layers += [torch.nn.GELU(), torch.nn.Linear(out_dim, out_dim)]
    return torch.nn.Sequential(*layers)


@PROJECTORS.register("linear")
def linear(in_dim: int, out_dim: int) -> torch.nn.Module:
    """One linear map (LLaVA)."""
    return torch.nn.Linear(in_dim, out_dim)


@PROJECTORS.register("mlp2x_gelu")
def mlp2x_gelu(in_dim: int, out_dim: int) -> torch.nn.Module:
    """Two linear layers with GELU between them (LLaVA-1.5)."""
    return mlp_gelu(in_dim, out_dim, 2)


def build_projector(name: str, in_dim: int, out_dim: int) -> torch.nn.Module:
    """A registered projector, or ``mlpNx_gelu`` for any N ≥ 1; unknown names get a did-you-mean error."""
    if name in PROJECTORS:
        return PROJECTORS.get(name)(in_dim, out_dim)
    match = _MLP.fullmatch(name)
    if match:
        depth = int(match.group(1))
        if depth < 1:
            raise SteervisError(f"Projector {name!r} needs at least one layer (mlp1x_gelu).")
        return mlp_gelu(in_dim, out_dim, depth)
    PROJECTORS.get(name)  # raises: unknown projector, did you mean ...
    raise AssertionError("unreachable")
