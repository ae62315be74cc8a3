"""``steervis study phash-threshold``: the measurement behind the pool's near-duplicate rule
(``PHASH_MAX_DISTANCE``): how far copies of evaluation images land, how far the pool is.

Copies: every minidomains image resized, recoloured, compressed or padded; distance to its original (the
smaller of the two hash distances, as the pool build uses). Unrelated: every image of a built pool (hashes
from its manifest, nearest distance to any minidomains image) plus those the build excluded by phash
(``excluded.csv``). Per threshold: the share of copies caught (overall and the worst transform) and the share
of the pool excluded.

    steervis study phash-threshold                       # the built pool in STEERVIS_HOME
    steervis study phash-threshold --set pool=/tmp/p     # another pool root
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from steervis.data.pool.exclude import hamming, hashes


def hue(img, degrees):
    hsv = np.array(img.convert("HSV")).astype(int)
    hsv[..., 0] = (hsv[..., 0] + int(degrees * 255 / 360)) % 256
    return Image.fromarray(hsv.astype("uint8"), "HSV").convert("RGB")


def tint(img, colour=(255, 120, 40)):
    return Image.fromarray((np.asarray(img) / 255 * np.array(colour)).astype("uint8"))


def jpeg(img, quality=40):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def scale(img, s):
    return img.resize((max(1, int(img.width * s)), max(1, int(img.height * s))), Image.Resampling.LANCZOS)


TRANSFORMS = {
    "resize 0.5": lambda i: scale(i, 0.5), "resize 0.4": lambda i: scale(i, 0.4),
    "resize 2": lambda i: scale(i, 2),
    "hue 60": lambda i: hue(i, 60), "hue 120": lambda i: hue(i, 120), "hue 180": lambda i: hue(i, 180),
    "tint": tint, "grey": lambda i: i.convert("L").convert("RGB"), "jpeg 40": jpeg,
    "pad 10%": lambda i: ImageOps.expand(i, int(0.1 * max(i.size)), fill="white"),
    "resize 0.5 + hue 120": lambda i: hue(scale(i, 0.5), 120),
    "resize 0.6 + tint + jpeg": lambda i: jpeg(tint(scale(i, 0.6))),
}


def distance(a: tuple[int, int], b: tuple[int, int]) -> int:
    return min(hamming(a[0], b[0]), hamming(a[1], b[1]))


def copy_distances(images: list[Any], evals: np.ndarray) -> dict[str, np.ndarray]:
    return {name: np.array([distance(hashes(f(img)), tuple(map(int, e))) for img, e in zip(images, evals,
                                                                                        strict=True)])
            for name, f in TRANSFORMS.items()}


def pool_distances(pool: Path, evals: np.ndarray) -> np.ndarray:
    """Each pool image's nearest distance to any evaluation image, kept and phash-excluded alike."""
    import pandas as pd

    kept = pd.read_parquet(pool / "manifest.parquet", columns=["phash", "phash_ink"])
    h = np.array([[int(a, 16), int(b, 16)] for a, b in zip(kept["phash"], kept["phash_ink"], strict=True)],
                 dtype=np.uint64)
    near = np.array([np.bitwise_count(evals ^ row).min(axis=1).min() for row in h])
    excluded = pd.read_csv(pool / "excluded.csv")
    dropped = [int(re.search(r"distance (\d+)", r).group(1))
               for r in excluded.loc[excluded["by"] == "phash", "reason"]]
    return np.concatenate([near, np.array(dropped, dtype=near.dtype)])


def phash_threshold(pool: str = "", thresholds: list[int] | None = None) -> dict[str, Any]:
    """Per threshold: copies caught (%, overall and worst transform) and pool excluded (%, count)."""
    import pandas as pd

    from steervis.data.images import open_image
    from steervis.data.minidomains import minidomains_root
    from steervis.data.pool import pool_root

    root = Path(pool) if pool else pool_root()
    md = minidomains_root()
    images = [open_image(md / p) for p in pd.read_parquet(md / "manifest.parquet")["path"]]
    evals = np.array([hashes(i) for i in images], dtype=np.uint64)
    copies, near = copy_distances(images, evals), pool_distances(root, evals)
    every = np.concatenate(list(copies.values()))
    rows = {}
    for t in thresholds or [6, 8, 10, 12]:
        caught = {n: round(float(np.mean(d <= t)) * 100, 1) for n, d in copies.items()}
        rows[f"T={t}"] = {"copies_caught_pct": round(float(np.mean(every <= t)) * 100, 1),
                          "worst_transform_pct": min(caught.values()),
                          "pool_excluded_pct": round(float(np.mean(near <= t)) * 100, 2),
                          "pool_excluded": int((near <= t).sum())}
    return {"rows": rows, "evaluation_images": len(images), "pool_images": int(len(near)),
            "pool_histogram_0_16": np.bincount(near, minlength=17)[:17].tolist()}
