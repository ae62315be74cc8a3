"""STIC's unlabelled images and their corrupted copies.

Images come from the knowledge pool (never a held-out concept or its near-duplicate) and from the training
scenes' main part (:mod:`steervis.data.scenes`); never minidomains, a test split of the scenes, or a scene's
validation tenth. Their words are never read: STIC learns from the model's own descriptions.

A corrupted copy is what the dis-preferred description is written from when no misleading prompt is used
(STIC's two corruptions): a colour jitter (brightness ×0.5–1.5, hue turned by up to ±0.3 of the circle), or
the image shrunk to about 20 pixels on its shorter side and scaled back, so colours survive and shapes do not.

>>> from PIL import Image
>>> img = Image.new("RGB", (64, 48), (200, 30, 30))
>>> small = downscale(img)
>>> small.size, small.getpixel((0, 0)) == img.getpixel((0, 0))
((64, 48), True)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from steervis.errors import SteervisError

if TYPE_CHECKING:
    from PIL import Image

BRIGHTNESS = 0.5  # STIC's ColorJitter(brightness=.5, hue=.3)
HUE = 0.3
SMALL_SIDE = 20  # STIC resizes corrupted images to 20 px


@dataclass(frozen=True)
class Source:
    """An unlabelled image: its file, where it came from (``pool`` or ``scene``) and, for a scene, its
    index in the train split (the gate reads its truth by it)."""

    path: str
    origin: str
    scene: int | None = None


def pool_images(n: int, seed: int = 0, root: str | Path | None = None) -> list[Source]:
    """``n`` seeded pool images, none of a held-out concept or near one (:mod:`steervis.data.heldout`)."""
    import pandas as pd

    from steervis.data.heldout import heldout_rows, load_heldout
    from steervis.data.pool import pool_root

    if n == 0:
        return []
    root = Path(root or pool_root())
    if not (root / "manifest.parquet").exists():
        raise SteervisError(f"The knowledge pool is not built at {root}: run `steervis data build pool` "
                            "first.")
    frame = pd.read_parquet(root / "manifest.parquet")
    frame = frame[~heldout_rows(frame, load_heldout())]
    frame = frame.sample(n=min(n, len(frame)), random_state=seed)
    return [Source(str(root / p), "pool") for p in frame["path"]]


def training_scenes(n: int, seed: int = 0, root: str | Path | None = None) -> list[Source]:
    """``n`` seeded scenes of the train split's main part (its validation tenth is never used)."""
    import pandas as pd

    from steervis.data.scenes import built_root

    if n == 0:
        return []
    root = built_root("train", root)
    scenes = pd.read_parquet(root / "scenes.parquet")
    main = scenes[(scenes["part"] == "main") & (scenes["kind"] == "train")]
    rows = main.iloc[np.random.default_rng(seed).permutation(len(main))[:n]]
    return [Source(str(root / r.image), "scene", int(r.index)) for r in rows.itertuples()]


def jitter(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Brightness scaled by a factor in [0.5, 1.5] and hue turned by up to ±0.3 of the colour circle."""
    from PIL import Image, ImageEnhance

    img = ImageEnhance.Brightness(img.convert("RGB")).enhance(rng.uniform(1 - BRIGHTNESS, 1 + BRIGHTNESS))
    shift = round(rng.uniform(-HUE, HUE) * 256)
    hue, sat, val = img.convert("HSV").split()
    return Image.merge("HSV", (hue.point(lambda x: (x + shift) % 256), sat, val)).convert("RGB")


def downscale(img: Image.Image, rng: np.random.Generator | None = None,
              side: int = SMALL_SIDE) -> Image.Image:
    """Shrunk to ``side`` pixels on its shorter side, then back to its size (``rng`` unused: no chance)."""
    img = img.convert("RGB")
    scale = side / min(img.size)
    small = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    return small.resize(img.size)


CORRUPTIONS = {"jitter": jitter, "downscale": downscale}


def corrupt(img: Image.Image, how: str, rng: np.random.Generator) -> Image.Image:
    """``how``: ``jitter`` or ``downscale``."""
    if how not in CORRUPTIONS:
        raise SteervisError(f"Unknown corruption {how!r}: choose one of {', '.join(CORRUPTIONS)}.")
    return CORRUPTIONS[how](img, rng)
