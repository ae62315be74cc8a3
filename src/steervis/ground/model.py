"""The GLIP-style head: every grid location scored against every prompt token, and a box per location.

Reading frozen trunk features ``[b, c, h, w]`` and frozen token states ``[b, t, d_text]``:

1. a 1×1 and a 3×3 convolution turn each location into a ``hidden``-wide feature; a linear map projects each
   token state to the same width;
2. optionally, one image–text fusion block (``fusion: true``): locations attend to the prompt's tokens and
   tokens to the locations, each with a residual (GLIP's X-MHA, once instead of in every layer);
3. per location an anchor-free box: distances to its four sides (left, top, right, bottom) as fractions of
   the image square, so a box may reach past its cell;
4. alignment logits = ``scale`` × cosine(location embedding, token embedding) + ``bias``: one score per
   location × token, trained with a focal loss against the positive map (``steervis.ground.losses``).

>>> model = GlipHead(GlipConfig(trunk="tiny", text="tiny-bert", hidden=8))
>>> boxes, logits = model(torch.zeros(1, 16, 4, 4), torch.zeros(1, 5, 16), torch.ones(1, 5, dtype=torch.long))
>>> tuple(boxes.shape), tuple(logits.shape)
((1, 16, 4), (1, 16, 5))
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from steervis.errors import SteervisError

PRIOR = 0.01  # focal loss' prior: every alignment logit starts at sigmoid⁻¹(0.01), as RetinaNet and GLIP


@dataclass
class GlipConfig:
    """The model's shape: which frozen trunk and text encoder it reads, and its own small head."""

    trunk: str = "efficientnet-lite0"
    stride: int = 32  # 10×10 locations on a 320 px scene; 16 gives 20×20 for small objects (4× the cost)
    size: int = 320  # the scenes' canvas side: the training scenes are read unresampled
    text: str = "minilm-l6"
    hidden: int = 128  # wide enough for a few hundred concepts, small enough to train on two cores
    fusion: bool = False  # one image–text cross-attention block (GLIP's deep fusion, reduced to one layer)
    heads: int = 4  # attention heads of the fusion block

    def __post_init__(self) -> None:
        if self.hidden < 1 or self.hidden % self.heads:
            raise SteervisError(f"hidden={self.hidden} must be a positive multiple of heads={self.heads}.")

    def trunk_spec(self):  # noqa: ANN201 (a TrunkSpec; parts imports the zoo lazily)
        from steervis.ground.parts import TrunkSpec

        return TrunkSpec(self.trunk, self.stride, self.size)


class Fusion(nn.Module):
    """One bidirectional cross-attention: locations read tokens, tokens read locations."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.image_reads = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.text_reads = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.image_norm, self.text_norm = nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, image: torch.Tensor, text: torch.Tensor,
                mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pad = ~mask.bool()
        image_new = image + self.image_reads(image, text, text, key_padding_mask=pad, need_weights=False)[0]
        text_new = text + self.text_reads(text, image, image, need_weights=False)[0]
        return self.image_norm(image_new), self.text_norm(text_new)


def cell_centres(cells: int) -> torch.Tensor:
    """``[cells², 2]`` (x, y) centres of a square grid's cells in the unit square, row-major."""
    centre = (torch.arange(cells, dtype=torch.float32) + 0.5) / cells
    ys, xs = torch.meshgrid(centre, centre, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=-1)


class GlipHead(nn.Module):
    """Trunk grid + token states → ``[b, hw, 4]`` unit-square xyxy boxes, ``[b, hw, t]`` alignment
    logits."""

    def __init__(self, config: GlipConfig):
        super().__init__()
        from steervis.ground.parts import TEXT_ENCODERS, trunk_channels

        TEXT_ENCODERS.get(config.text)  # an unknown encoder: did-you-mean, before any weight exists
        self.config = config
        hidden = config.hidden
        channels = trunk_channels(config.trunk, config.stride)
        self.stem = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.GELU(),
                                  nn.Conv2d(hidden, hidden, 3, padding=1), nn.GELU())
        self.text_proj = nn.Linear(TEXT_ENCODERS.meta(config.text)["dim"], hidden)
        self.fusion = Fusion(hidden, config.heads) if config.fusion else None
        self.box = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 4))
        self.embed = nn.Linear(hidden, hidden)
        self.log_scale = nn.Parameter(torch.tensor(math.log(10.0)))  # cosines × 10: logits span ±10
        self.bias = nn.Parameter(torch.tensor(-math.log((1 - PRIOR) / PRIOR)))

    def forward(self, grid: torch.Tensor, tokens: torch.Tensor,
                mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cells = grid.shape[-1]
        image = self.stem(grid.to(self.bias.dtype)).flatten(2).transpose(1, 2)  # [b, hw, hidden]
        text = self.text_proj(tokens.to(self.bias.dtype))
        if self.fusion is not None:
            image, text = self.fusion(image, text, mask)
        centres = cell_centres(cells).to(image)
        sides = torch.sigmoid(self.box(image))  # left, top, right, bottom: fractions of the square
        boxes = torch.cat([centres - sides[..., :2], centres + sides[..., 2:]], dim=-1).clamp(0, 1)
        img = nn.functional.normalize(self.embed(image), dim=-1)
        txt = nn.functional.normalize(text, dim=-1)
        logits = self.log_scale.exp() * img @ txt.transpose(1, 2) + self.bias
        return boxes, logits

    def save(self, directory: str | Path) -> Path:
        """``config.json`` + ``model.safetensors`` (the head only: trunk and encoder are named, frozen)."""
        from safetensors.torch import save_file

        from steervis.atomic import atomic_path, write_text

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        with atomic_path(out / "model.safetensors") as tmp:
            save_file({k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}, str(tmp))
        write_text(out / "config.json", json.dumps(asdict(self.config), indent=2))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> GlipHead:
        from safetensors.torch import load_file

        from steervis.config import from_dict

        folder = Path(directory).expanduser()
        if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
            raise SteervisError(f"{folder} is not a trained grounding model (config.json and "
                                "model.safetensors are missing): train one with `steervis ground train`.")
        model = cls(from_dict(GlipConfig, json.loads((folder / "config.json").read_text())))
        model.load_state_dict(load_file(str(folder / "model.safetensors")))
        return model.eval()

