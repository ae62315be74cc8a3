"""AnyRes: the tile grid by aspect ratio, the tiles covering the image, the merged map, the cache's key."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from steervis.errors import SteervisError
from steervis.llava.anyres import AnyResTower, merge, pick_grid, tiles
from steervis.llava.tower import FeatureCache, TowerSpec, build_tower


@pytest.mark.parametrize(("size", "grid"), [
    ((640, 320), (1, 2)), ((320, 640), (2, 1)), ((300, 300), (2, 2)), ((900, 300), (1, 3)),
    ((300, 900), (3, 1)), ((1200, 290), (1, 4)), ((100, 50), (1, 2)),
])
def test_the_grid_fits_the_aspect_ratio_rows_by_cols(size, grid):
    assert pick_grid(size) == grid


def test_tiles_cover_the_image_row_major():
    image = Image.new("RGB", (320, 320), "white")
    image.paste((255, 0, 0), (160, 0, 320, 160))  # the top-right quadrant is red
    parts = tiles(image, 2, 2)
    assert [p.size for p in parts] == [(224, 224)] * 4
    white, red = (255, 255, 255), (255, 0, 0)
    assert [p.getpixel((112, 112)) for p in parts] == [white, red, white, white]
    wide = tiles(Image.new("RGB", (400, 100), "blue"), 1, 2)  # 448 × 112 of blue, centred in 448 × 224
    assert wide[0].getpixel((5, 112)) == (0, 0, 255) and wide[0].getpixel((5, 10)) == (255, 255, 255)


def test_merge_lays_tiles_side_by_side():
    tile_tokens = torch.arange(2 * 4).reshape(2, 4, 1).float()  # two 2 × 2 tiles in one row
    assert merge(tile_tokens, 1, 2)[:, 0].tolist() == [0, 1, 4, 5, 2, 3, 6, 7]


def _fake_anyres(fake_tower):
    """AnyRes on the fake tower (4 × 4 cells of each view's pixels, so grid 4)."""
    return AnyResTower(TowerSpec("fake", grid=4, anyres=True), type(fake_tower)(TowerSpec("fake", grid=4)))


def test_a_red_quadrant_reaches_the_right_cells_of_the_merged_map(fake_tower):
    tower = _fake_anyres(fake_tower)
    image = Image.new("RGB", (320, 320), "white")
    image.paste((255, 0, 0), (160, 160, 320, 320))  # bottom-right quadrant
    out = tower.encode([image, Image.new("RGB", (640, 320), "white")])
    assert out.shape == (2, 80, 320) and tower.spec.tokens == 80  # 4 × 4 thumbnail + 4 tiles of 4 × 4
    merged = out[0, 16:80, 1].reshape(8, 8)  # channel 1: green, 0 where red
    assert (merged[4:, 4:] == 0).all() and (merged[:4] == 1).all() and (merged[:, :4] == 1).all()
    thumb = out[0, :16, 1].reshape(4, 4)
    assert thumb[3, 3] == 0 and thumb[0, 0] == 1  # the whole image, resized (blurred at the border)
    assert out[1, 16 + 32 :].abs().sum() == 0  # a 1 × 2 grid: two tiles' tokens, then zeros


def test_anyres_and_size_have_their_own_cache_and_token_counts(tmp_home, fake_tower):
    specs = [TowerSpec(), TowerSpec(size=448), TowerSpec(anyres=True), TowerSpec(grid=2, anyres=True),
             TowerSpec(grid=2, size=320, anyres=True)]
    assert len({s.id for s in specs}) == len(specs) and specs[0].id == "efficientnet-lite0-blocks-g4-224pad"
    assert [s.tokens for s in specs] == [16, 16, 80, 20, 20]
    cache = FeatureCache(_fake_anyres(fake_tower))
    plain = FeatureCache(_fake_anyres(fake_tower).base)
    assert cache.store.dir != plain.store.dir and cache.store.dir.name.startswith("fake-blocks-g4-4px-anyres")


def test_size_needs_a_resizable_tower_and_anyres_builds_on_the_base():
    with pytest.raises(SteervisError, match="needs a resizable tower"):
        TowerSpec("clip:tiny-clip", size=448)
    tower = build_tower(TowerSpec("clip:tiny-clip", grid=2, anyres=True))
    assert tower.base.spec == TowerSpec("clip:tiny-clip", grid=2)  # CLIP reads each tile at its own size
    out = tower.encode([Image.new("RGB", (60, 30), "red")])
    assert out.shape == (1, 20, tower.spec.dim) and out[0, 12:].abs().sum() == 0  # 1 × 2 tiles


def test_a_set_size_reads_the_whole_square_at_that_size():
    from steervis.llava.tower import EfficientNetTower

    class _Classifier:
        model = None

        def preprocess(self, images):
            raise AssertionError("a set size must not use the classifier's cropped recipe")

    tower = EfficientNetTower(TowerSpec(size=64), classifier=_Classifier())
    pixels = tower.pixels([Image.new("RGB", (40, 20), "black")])
    assert pixels.shape == (1, 3, 64, 64)
    assert pixels[0, 0, 0, 0] > 2 and pixels[0, 0, 32, 32] < -2  # white padding kept above, the image inside
