"""One scene: objects of a split's bank pasted on a canvas by their ink masks, every fact about them recorded.

A scene is drawn from its own random stream (seed, split, index), so scene 4,711 is the same whether it is
made first, last, or after a kill: :func:`make_scene` returns the image, the label map (pixel value ``k`` =
object ``k - 1`` visible there, 0 = background) and the objects' truth.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from steervis.data.images import BadImage
from steervis.data.scenes.objects import TINT_HUE, cutout, ink_colour, tint

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CANVAS = 320  # px, square: room for six objects of a fifth of the side; a tower resizes it anyway
MAX_OBJECTS = 6
# An object's longest side, as a fraction of the canvas: small enough for six, big enough to recognise.
MIN_SIDE, MAX_SIDE = 0.18, 0.45
MIN_VISIBLE = 0.5  # every object keeps at least half its pixels in view: occluded, still countable
TINT_RATE = 0.3  # share of objects painted one colour by the generator (colour known by construction)
TEXTURE_RATE = 0.3  # share of backgrounds made of a faded, blurred pool image instead of a plain tone
PLACE_TRIES, SHRINKS = 10, 4  # positions tried per size; after each 10 failures the object shrinks by 15 %


@dataclass
class Bank:
    """A split's objects (a frame with ``path``, ``rel``, ``name``, ...) indexed by name."""

    frame: pd.DataFrame
    names: list[str] = field(init=False)
    rows: dict[str, list[int]] = field(init=False)
    records: list[dict] = field(init=False)  # the rows as dicts: a scene reads a few fields of a few rows

    def __post_init__(self) -> None:
        self.frame = self.frame.reset_index(drop=True)
        self.records = self.frame.to_dict("records")
        self.rows = {}
        for i, name in enumerate(self.frame["name"]):
            self.rows.setdefault(name, []).append(i)
        self.names = sorted(self.rows)


def scene_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random stream of one scene (independent of every other scene)."""
    import numpy as np

    return np.random.default_rng([seed, zlib.crc32(split.encode()), index])


def choose_objects(rng: np.random.Generator, bank: Bank) -> list[int]:
    """Bank rows of one scene: 1–6 objects (uniform), of 1..k distinct names, repeats of them for the rest."""
    k = int(rng.integers(1, MAX_OBJECTS + 1))
    distinct = min(int(rng.integers(1, k + 1)), len(bank.names))
    names = [bank.names[i] for i in rng.choice(len(bank.names), distinct, replace=False)]
    names += [names[i] for i in rng.integers(0, distinct, k - distinct)]
    return [int(rng.choice(bank.rows[n])) for n in names]


def background(rng: np.random.Generator, bank: Bank) -> np.ndarray:
    """A plain pale tone, or (:data:`TEXTURE_RATE`) a pool image blurred and faded over one."""
    import colorsys

    import numpy as np
    from PIL import ImageFilter

    tone = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0, 0.12), rng.uniform(0.92, 1.0))
    canvas = np.full((CANVAS, CANVAS, 3), np.round(np.array(tone) * 255), dtype=np.float64)
    if rng.random() < TEXTURE_RATE:
        try:
            img, _ = cutout(bank.records[int(rng.integers(len(bank.records)))]["path"])
        except BadImage:  # a file with no ink (or unreadable since the build): the plain tone stays
            return canvas.astype(np.uint8)
        # blurred small, then enlarged: the same soft texture at a tenth of the cost
        texture = img.resize((CANVAS // 4,) * 2).filter(ImageFilter.GaussianBlur(2)).resize((CANVAS,) * 2)
        canvas = 0.75 * canvas + 0.25 * np.asarray(texture, dtype=np.float64)
    return canvas.astype(np.uint8)


def _place(rng: np.random.Generator, label: np.ndarray, areas: list[int], mask: np.ndarray,
           number: int) -> tuple[int, int] | None:
    """A top-left corner where ``mask`` keeps every earlier object ≥ :data:`MIN_VISIBLE` visible, or None."""
    import numpy as np

    h, w = mask.shape
    for _ in range(PLACE_TRIES):
        x, y = int(rng.integers(0, CANVAS - w + 1)), int(rng.integers(0, CANVAS - h + 1))
        covered = np.bincount(label[y:y + h, x:x + w][mask], minlength=number)[1:number]
        left = np.bincount(label.ravel(), minlength=number)[1:number] - covered
        if all(v >= MIN_VISIBLE * a for v, a in zip(left, areas, strict=True)):
            return x, y
    return None


def _resized(img, mask, side: float):
    import numpy as np
    from PIL import Image

    scale = side / max(img.size)
    size = (max(4, round(img.width * scale)), max(4, round(img.height * scale)))
    small = Image.fromarray(mask.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)
    return np.asarray(img.resize(size, Image.Resampling.LANCZOS)), np.asarray(small) > 127


def make_scene(rng: np.random.Generator, bank: Bank) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """``(rgb, label map, objects)`` of one scene; an object that finds no place is left out."""
    import numpy as np

    rows = choose_objects(rng, bank)
    canvas, label = background(rng, bank), np.zeros((CANVAS, CANVAS), dtype=np.uint8)
    placed: list[tuple[int, str | None, tuple[int, int, int, int]]] = []
    areas: list[int] = []
    for row in rows:
        colour = str(rng.choice(list(TINT_HUE))) if rng.random() < TINT_RATE else None
        try:
            img, mask = cutout(bank.records[row]["path"])
        except BadImage:  # no ink to cut out: left out like an object that finds no place
            continue
        img = tint(img, colour) if colour else img
        side = rng.uniform(MIN_SIDE, MAX_SIDE) * CANVAS
        for _ in range(SHRINKS):
            pixels, shape = _resized(img, mask, side)
            spot = _place(rng, label, areas, shape, len(placed) + 1)
            if spot:
                break
            side *= 0.85
        if spot is None:
            continue
        x, y = spot
        h, w = shape.shape
        canvas[y:y + h, x:x + w][shape] = pixels[shape]
        label[y:y + h, x:x + w][shape] = len(placed) + 1
        placed.append((row, colour, (x, y, w, h)))
        areas.append(int(shape.sum()))
    return canvas, label, [_truth(bank.records[row], colour, canvas, label, i + 1, spot)
                           for i, (row, colour, spot) in enumerate(placed)]


def _truth(rec: dict, colour: str | None, canvas: np.ndarray, label: np.ndarray, number: int,
           spot: tuple[int, int, int, int]) -> dict:
    """An object's facts from what is visible of it (label ``number``) within where it was pasted."""
    import numpy as np

    x, y, w, h = spot
    visible = label[y:y + h, x:x + w] == number
    ys, xs = np.nonzero(visible)
    x0, y0, x1, y1 = x + int(xs.min()), y + int(ys.min()), x + int(xs.max()) + 1, y + int(ys.max()) + 1
    seen = colour or ink_colour(canvas[y:y + h, x:x + w], visible)
    return {"name": rec["name"], "phrase": rec["phrase"], "text": rec["text"], "source": rec["rel"],
            "sha256": rec["sha256"], "phash": rec["phash"], "phash_ink": rec["phash_ink"],
            "category": rec["category"], "box": [x0, y0, x1 - x0, y1 - y0],
            "centre": [(x0 + x1) / 2, (y0 + y1) / 2], "area": int(visible.sum()), "colour": seen,
            "colour_from": "tint" if colour else ("ink" if seen else None), "tint": colour}
