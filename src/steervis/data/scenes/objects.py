"""The objects scenes are made of: pool (or minidomains) images cut out by their ink, their colour, and which
objects each split may use.

The pool is drawings, emoji and photo cut-outs on white: an object's *ink mask* is its non-white pixels with
the holes inside filled (a white belly stays part of the cat). Its colour is known either by construction (a
tint the generator applies) or by :func:`ink_colour`'s fixed rule with a margin; otherwise it has none.

Splits (:func:`split_banks`): a pool row whose concept name is on the held-out list, or that is a
near-duplicate of one, serves ``test-unseen`` only; a seeded 10 % of the other files are *held-out files* of
training names (``test-seen``'s second part); ``train`` gets the rest, less any near-duplicate of a held-out
row or file, so no test object is a near-duplicate of a training object.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from steervis.data.heldout import HeldOut, concept_name, head_noun, heldout_rows, near_mask
from steervis.data.pool.text import parse_pair_text, with_article

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from PIL import Image as PILImage

# A pixel is ink when its darkest channel is below this (the pool's white is 255; anti-aliased edges ~240).
INK_BELOW = 235
# Colour words and their hue ranges in degrees (red wraps around 0); a tint is painted at the range's centre.
HUES = {"red": (345, 15), "orange": (15, 40), "yellow": (40, 70), "green": (70, 165), "blue": (165, 255),
        "purple": (255, 300), "pink": (300, 345)}
TINT_HUE = {"red": 0, "orange": 27, "yellow": 55, "green": 118, "blue": 212, "purple": 278, "pink": 322}
# The colour rule: half the ink chromatic (saturation ≥ 0.35, value ≥ 0.3), and of that, 60 % in one hue
# range holding twice the next one; or 80 % of the ink dark (value < 0.25): black. Else no colour question.
CHROMA_S, CHROMA_V, DARK_V = 0.35, 0.3, 0.25
MIN_CHROMATIC, MIN_TOP, MIN_MARGIN, MIN_DARK = 0.5, 0.6, 2.0, 0.8
# Brown is a dull red-orange-yellow (sienna, a bear's fur): hue 8–45°, value < 0.8 or saturation < 0.65.
BROWN_HUES, BROWN_V, BROWN_S = (8, 45), 0.8, 0.65
# A tint keeps the object's shading within value 0.82–1 and saturation 0.85: never dull enough to read brown.
TINT_VALUE, TINT_SATURATION = 210, 217
MIN_NAME = 3  # letters: "h" (a stamp of the letter) or "fc" make no question anyone could answer
FILE_FRACTION = 0.1  # the share of training names' files kept for test-seen's "held-out files" part
BANK_COLUMNS = ["path", "text", "name", "category", "sha256", "phash", "phash_ink", "domain"]


def hue_of(degrees: np.ndarray) -> np.ndarray:
    """Index into :data:`HUES` of each hue (degrees)."""
    import numpy as np

    out = np.zeros(degrees.shape, dtype=int)
    for i, (lo, hi) in enumerate(HUES.values()):
        inside = (degrees >= lo) & (degrees < hi) if lo < hi else (degrees >= lo) | (degrees < hi)
        out[inside] = i
    return out


def ink_colour(rgb: np.ndarray, mask: np.ndarray) -> str | None:
    """The colour word of the pixels under ``mask`` by the fixed rule above, or None (no clear colour)."""
    import numpy as np

    px = rgb[mask].astype(np.float64) / 255
    if not len(px):
        return None
    top, low = px.max(axis=1), px.min(axis=1)
    sat = np.where(top > 0, (top - low) / np.maximum(top, 1e-9), 0)
    chroma = (sat >= CHROMA_S) & (top >= CHROMA_V)
    if chroma.mean() >= MIN_CHROMATIC:
        hue = _hue_degrees(px[chroma])
        bins = hue_of(hue)
        dull = (top[chroma] < BROWN_V) | (sat[chroma] < BROWN_S)
        bins[(hue >= BROWN_HUES[0]) & (hue < BROWN_HUES[1]) & dull] = len(HUES)  # brown, not red or orange
        counts = np.bincount(bins, minlength=len(HUES) + 1)
        first, second = np.sort(counts)[::-1][:2]
        if first >= MIN_TOP * chroma.sum() and first >= MIN_MARGIN * second:
            return [*HUES, "brown"][int(np.argmax(counts))]
        return None
    return "black" if (top < DARK_V).mean() >= MIN_DARK else None


def _hue_degrees(px: np.ndarray) -> np.ndarray:
    import numpy as np

    r, g, b = px[:, 0], px[:, 1], px[:, 2]
    top, span = px.max(axis=1), np.maximum(px.max(axis=1) - px.min(axis=1), 1e-9)
    sector = np.where(top == r, ((g - b) / span) % 6,
                      np.where(top == g, (b - r) / span + 2, (r - g) / span + 4))
    return sector * 60  # HSV hue in degrees


# 512 cut-outs (~130 MB): all of minidomains-sized banks, a bounded share of the pool
@functools.lru_cache(maxsize=512)
def cutout(path: str) -> tuple[PILImage.Image, np.ndarray]:
    """An image's RGB crop to its ink and the filled ink mask (bool array of the crop's size)."""
    import numpy as np
    from PIL import Image
    from scipy.ndimage import binary_fill_holes

    from steervis.data.images import BadImage, open_image

    rgb = np.asarray(open_image(path))
    mask = binary_fill_holes(rgb.min(axis=2) < INK_BELOW)
    ys, xs = np.nonzero(mask)
    if not len(ys):
        raise BadImage("no ink to cut out", path)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return Image.fromarray(rgb[y0:y1, x0:x1]), mask[y0:y1, x0:x1]


def tint(img: PILImage.Image, colour: str) -> PILImage.Image:
    """Paint an object in one colour: its hue set to the colour's, its shading squeezed into value 0.82–1."""
    from PIL import Image

    _, _, v = img.convert("HSV").split()
    hue = Image.new("L", img.size, round(TINT_HUE[colour] / 360 * 255))
    sat = Image.new("L", img.size, TINT_SATURATION)
    shade = v.point(lambda x: TINT_VALUE + x * (255 - TINT_VALUE) // 255)
    return Image.merge("HSV", (hue, sat, shade)).convert("RGB")


def pool_bank(frame: pd.DataFrame) -> pd.DataFrame:
    """Pool rows that name something, with their concept ``name`` (head noun) and ``phrase`` (pool name)."""
    frame = frame.assign(name=[concept_name(t) for t in frame["text"]],
                         phrase=[parse_pair_text(t).name for t in frame["text"]], domain="")
    return frame[frame["name"].str.len() >= MIN_NAME].reset_index(drop=True)


def _file_share(sha: str, seed: int) -> bool:
    return int(hashlib.sha256(f"{seed}:{sha}".encode()).hexdigest()[:8], 16) < FILE_FRACTION * 2**32


def split_banks(frame: pd.DataFrame, held: HeldOut, seed: int = 0) -> dict[str, pd.DataFrame]:
    """``train``, ``files`` (held-out files of training names) and ``unseen`` (held-out concepts) objects of
    a pool manifest (``text``, ``path``, ``sha256``, ``phash``, ``phash_ink``, ``category``)."""
    out = heldout_rows(frame, held)
    bank = pool_bank(frame.assign(_out=out))
    unseen = bank[[n in held for n in bank["name"]]]
    free = bank[~bank["_out"]]
    chosen = free[[_file_share(s, seed) for s in free["sha256"]]]
    rest = free.drop(chosen.index)
    train = rest[~near_mask(rest, chosen)]
    files = chosen[chosen["name"].isin(set(train["name"]))]
    return {k: v.drop(columns="_out").reset_index(drop=True)
            for k, v in {"train": train, "files": files, "unseen": unseen}.items()}


def styles_bank(root: str | Path) -> pd.DataFrame:
    """minidomains objects: one row per image, ``name`` the class's head noun, ``domain`` its style."""
    import pandas as pd

    from steervis.data.images import open_image
    from steervis.data.manifest import read_manifest
    from steervis.data.pool.exclude import hashes

    root = Path(root)
    frame = read_manifest(root)
    marks = [hashes(open_image(root / p)) for p in frame["path"]]
    phrases = [c.replace("_", " ") for c in frame["class"]]
    return pd.DataFrame({
        "path": [str(root / p) for p in frame["path"]], "rel": frame["path"].tolist(),
        "name": [head_noun(p) for p in phrases], "phrase": phrases, "category": frame["class"].tolist(),
        "text": [f"a {d} of {with_article(p)}" for d, p in zip(frame["domain"], phrases, strict=True)],
        "sha256": frame["sha256"].tolist(), "phash": [f"{a:016x}" for a, _ in marks],
        "phash_ink": [f"{b:016x}" for _, b in marks], "domain": frame["domain"].tolist()})
