"""AnyRes (LLaVA-1.5-HD, LLaVA-NeXT): an image read as tiles at the tower's own resolution, plus a thumbnail.

LLaVA-NeXT picks, from a fixed set of tile grids, the one whose resolution fits the image best (the most of
its pixels kept, then the least padding wasted: :func:`pick_grid`); resizes the image into it keeping its
aspect ratio (padded, centred); cuts it into tiles of the tower's input side; encodes each tile on its own and
lays their feature maps side by side into one merged map; and puts the whole image, padded to a square and
resized to one tile (the global context of LLaVA-1.5-HD), in front. Here every map is pooled to
``grid × grid`` as any steervis tower's, so an image gives, in order:

* the thumbnail's ``grid²`` tokens;
* the merged map, ``rows·grid × cols·grid`` tokens, row-major over the image;
* zero tokens up to four tiles' worth, so every image has ``5·grid²`` tokens (the feature cache and the
  prompt's placeholders need one count; LLaVA-NeXT instead varies it per image and drops padded rows).

Grids are written ``rows × cols``: a 2:1 landscape image (twice as wide as high) takes 1×2, a square one 2×2.
Not done: LLaVA-NeXT's learned row-end ("newline") embedding after each row of the merged map, which
belongs to the projector and needs each image's grid at splice time (the cached tokens do not carry it), and
its removal of the padded rows.

>>> pick_grid((640, 320)), pick_grid((320, 640)), pick_grid((320, 320)), pick_grid((1000, 240))
((1, 2), (2, 1), (2, 2), (1, 4))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch
from PIL import Image

TILE = 224  # efficientnet-lite0's input side; a tower of another native size (CLIP) resizes each tile
# LLaVA-NeXT's grid set (rows × cols), in its order: ties go to the first
GRIDS = ((2, 2), (1, 2), (1, 3), (1, 4), (2, 1), (3, 1), (4, 1))
MAX_TILES = max(r * c for r, c in GRIDS)
FILL = (255, 255, 255)  # white, as efficientnet-lite0's pad to square


def pick_grid(size: tuple[int, int], tile: int = TILE) -> tuple[int, int]:
    """``(rows, cols)`` for an image of ``(width, height)``: LLaVA-NeXT's ``select_best_resolution``, the
    grid keeping the most of the image's pixels (never more than it has), then wasting the fewest."""
    width, height = size
    best, kept, wasted = GRIDS[0], -1, 0
    for rows, cols in GRIDS:
        scale = min(cols * tile / width, rows * tile / height)
        effective = min(int(width * scale) * int(height * scale), width * height)
        waste = rows * cols * tile * tile - effective
        if effective > kept or (effective == kept and waste < wasted):
            best, kept, wasted = (rows, cols), effective, waste
    return best


def tiles(image: Image.Image, rows: int, cols: int, tile: int = TILE) -> list[Image.Image]:
    """The image resized into ``cols·tile × rows·tile`` keeping its aspect ratio (padded, centred), cut into
    ``rows × cols`` tiles, row-major."""
    image = image.convert("RGB")
    width, height = image.size
    scale = min(cols * tile / width, rows * tile / height)
    new = (min(cols * tile, round(width * scale)), min(rows * tile, round(height * scale)))
    canvas = Image.new("RGB", (cols * tile, rows * tile), FILL)
    canvas.paste(image.resize(new, Image.Resampling.BICUBIC),
                 ((cols * tile - new[0]) // 2, (rows * tile - new[1]) // 2))
    return [canvas.crop((c * tile, r * tile, (c + 1) * tile, (r + 1) * tile))
            for r in range(rows) for c in range(cols)]


def merge(tile_tokens: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """``[rows·cols, grid², d]`` tiles' tokens (row-major tiles) → the merged map ``[rows·grid · cols·grid,
    d]``, row-major over the whole image."""
    n, cells, dim = tile_tokens.shape
    grid = round(cells ** 0.5)
    return (tile_tokens.reshape(rows, cols, grid, grid, dim).permute(0, 2, 1, 3, 4)
            .reshape(rows * grid * cols * grid, dim))


def merged_map(tokens: torch.Tensor, grid: int, rows: int, cols: int) -> tuple[Any, Any]:
    """``(thumbnail [grid², d], merged map [rows·grid·cols·grid, d])`` of one image's AnyRes tokens."""
    cells = grid * grid
    return tokens[:cells], tokens[cells : cells + rows * cols * cells]


class AnyResTower:
    """A tower's tokens of a thumbnail and of each tile, merged (see the module); ``spec.anyres`` is set."""

    def __init__(self, spec: Any, base: Any):  # a TowerSpec (tower.py builds this class: no import back)
        self.spec = spec
        self.base = base  # the plain tower that reads every view (thumbnail and tiles)

    @classmethod
    def build(cls, spec: Any, device: str = "auto", dtype: str = "auto") -> AnyResTower:
        """The spec's tower, reading each tile whole: a resizable one at ``size`` (default :data:`TILE`) with
        no centre crop, another one at its own size."""
        family = spec.family
        size = spec.size or (TILE if getattr(family, "resizable", False) else 0)
        return cls(spec, family(replace(spec, anyres=False, size=size), device=device, dtype=dtype))

    @property
    def tile(self) -> int:
        return self.spec.size or TILE

    def encode(self, images: Sequence[Any]) -> torch.Tensor:
        """``[n, 5·grid², dim]``: thumbnail, merged map, zero padding (see the module)."""
        views, grids = [], []
        for img in images:
            rows, cols = pick_grid(img.size, self.tile)
            views += [img, *tiles(img, rows, cols, self.tile)]
            grids.append((rows, cols))
        out = torch.zeros((len(images), self.spec.tokens, self.spec.dim))
        if not views:
            return out
        feats = self.base.encode(views)
        cells, at = self.spec.grid ** 2, 0
        for i, (rows, cols) in enumerate(grids):
            n = rows * cols
            out[i, :cells] = feats[at]
            out[i, cells : cells * (1 + n)] = merge(feats[at + 1 : at + 1 + n], rows, cols)
            at += 1 + n
        return out
