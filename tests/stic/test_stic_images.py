"""STIC's images: corruptions change the picture and keep its size; sources never reach held-out data."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from steervis.data.heldout import load_heldout
from steervis.errors import SteervisError
from steervis.stic.images import corrupt, downscale, jitter, pool_images, training_scenes


def stripes() -> Image.Image:
    """Thin coloured stripes: detail a 20-pixel copy cannot keep."""
    arr = np.zeros((96, 128, 3), dtype=np.uint8)
    arr[:, ::4] = (220, 30, 30)
    arr[:, 1::4] = (30, 30, 220)
    return Image.fromarray(arr)


def test_every_corruption_changes_the_image_and_keeps_its_size():
    img = stripes()
    for how in ("jitter", "downscale"):
        out = corrupt(img, how, np.random.default_rng(0))
        assert out.size == img.size and out.mode == "RGB"
        assert np.abs(np.asarray(out, dtype=int) - np.asarray(img, dtype=int)).mean() > 10, how


def test_jitter_turns_the_hue_and_is_seeded():
    red = Image.new("RGB", (32, 32), (220, 30, 30))
    a, b = jitter(red, np.random.default_rng(3)), jitter(red, np.random.default_rng(3))
    assert a.tobytes() == b.tobytes()
    shifted = [jitter(red, np.random.default_rng(s)).getpixel((5, 5)) for s in range(6)]
    assert len(set(shifted)) == 6  # each seed a different colour


def test_downscale_keeps_flat_colour_and_loses_detail():
    flat = Image.new("RGB", (80, 60), (10, 200, 30))
    assert downscale(flat).getpixel((40, 30)) == (10, 200, 30)
    assert len(set(np.asarray(downscale(stripes())).reshape(-1, 3)[:, 0].tolist())) > 2  # stripes blur


def test_an_unknown_corruption_is_one_sentence():
    with pytest.raises(SteervisError, match="jitter, downscale"):
        corrupt(stripes(), "blur", np.random.default_rng(0))


def test_pool_images_leave_out_held_out_concepts(tmp_path):
    held = load_heldout().names[0]
    texts = [f"a drawing of a {held}"] * 5 + [f"a drawing of a kettle number {i}" for i in range(5)]
    frame = pd.DataFrame({"path": [f"img/{i}.png" for i in range(10)], "text": texts})
    frame.to_parquet(tmp_path / "manifest.parquet", index=False)
    picked = pool_images(10, seed=0, root=tmp_path)
    assert sorted(s.path for s in picked) == sorted(str(tmp_path / f"img/{i}.png") for i in range(5, 10))
    assert {s.origin for s in picked} == {"pool"}


def test_training_scenes_come_from_the_main_part_only(toy_scenes):
    picked = training_scenes(100, seed=1, root=toy_scenes)
    assert sorted(s.scene for s in picked) == [0, 1, 2, 3, 4, 5]  # never the validation tenth (6, 7)
    assert training_scenes(3, seed=1, root=toy_scenes) == picked[:3]


def test_missing_scenes_are_one_sentence(tmp_path):
    with pytest.raises(SteervisError, match="steervis data build scenes"):
        training_scenes(3, root=tmp_path)
