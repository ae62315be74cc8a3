import pytest
import torch

from steervis.errors import SteervisError
from steervis.llava.projector import PROJECTORS, build_projector


@pytest.mark.parametrize("name", PROJECTORS.names())
def test_registered_projectors_map_visual_tokens_to_lm_width(name):
    proj = build_projector(name, 12, 8)
    assert proj(torch.randn(2, 16, 12)).shape == (2, 16, 8)


def test_registered_names_are_llavas():
    assert PROJECTORS.names() == ["linear", "mlp2x_gelu"]


@pytest.mark.parametrize(("name", "linears"), [("mlp1x_gelu", 1), ("mlp2x_gelu", 2), ("mlp4x_gelu", 4)])
def test_mlp_depth_is_parsed(name, linears):
    proj = build_projector(name, 6, 5)
    assert sum(isinstance(m, torch.nn.Linear) for m in proj.modules()) == linears
    assert sum(isinstance(m, torch.nn.GELU) for m in proj.modules()) == linears - 1


def test_unknown_projector_says_did_you_mean():
    with pytest.raises(SteervisError, match="Did you mean 'mlp2x_gelu'"):
        build_projector("mlp2x_gelus", 4, 4)
    with pytest.raises(SteervisError, match="at least one layer"):
        build_projector("mlp0x_gelu", 4, 4)
