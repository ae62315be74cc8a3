"""A tiny knowledge pool for scene tests: seeded random polygon drawings on white, with pool-style texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from steervis.data.images import write_png
from steervis.data.manifest import write_manifest
from steervis.data.pool import COLUMNS
from steervis.data.pool.exclude import hashes

NAMES = ("dog", "cat", "moon", "star", "tree", "car", "apple", "boat", "kite", "shoe", "lamp", "fish")
COLOURS = ((200, 30, 30), (30, 60, 200), (20, 20, 20), (40, 160, 60), (230, 200, 20), (120, 70, 30))


def drawing(rng: np.random.Generator, colour: tuple[int, int, int]) -> Image.Image:
    """A filled random polygon with a dark outline and a white hole, on white (like a pool clip-art)."""
    img = Image.new("RGB", (128, 128), "white")
    draw = ImageDraw.Draw(img)
    angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(5, 9))))
    radii = rng.uniform(25, 60, len(angles))
    points = [(64 + r * np.cos(a), 64 + r * np.sin(a)) for a, r in zip(angles, radii, strict=True)]
    draw.polygon(points, fill=colour, outline=(0, 0, 0), width=3)
    draw.ellipse([58, 58, 70, 70], fill="white")
    return img


def make_tiny_pool(root: Path, per_name: int = 4, seed: int = 0) -> Path:
    """``per_name`` drawings of each of :data:`NAMES` under ``root``, with a pool manifest."""
    rng = np.random.default_rng(seed)
    rows = []
    for n, name in enumerate(NAMES):
        for k in range(per_name):
            img = drawing(rng, COLOURS[(n + k) % len(COLOURS)])
            rel = f"openclipart/{n:02x}/{name}_{k}.png"
            digest = write_png(img, root / rel)
            ph, ink = hashes(img)
            style = "an emoji of" if k == 3 else "a drawing of"
            title = f"{name} face" if k == 3 else ("two " + name + "s" if k == 2 else name)
            rows.append({"path": rel, "text": f"{style} {'' if k == 2 else 'a '}{title}. keywords: thing",
                         "title": title, "description": "", "keywords": "thing",
                         "category": "animals" if n < 3 else "things", "lang": "en", "source": "openclipart",
                         "package": "test", "licence": "test", "sha256": digest, "phash": f"{ph:016x}",
                         "phash_ink": f"{ink:016x}", "concept": f"openclipart:{rel}", "origin": rel})
    write_manifest(root, rows, columns=COLUMNS, sort_by=("path",))
    return root
