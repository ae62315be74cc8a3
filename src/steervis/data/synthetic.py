"""A tiny generated dataset in the benchmark layout, for fast tests of everything built on top of it.

Each class is a shape, each domain a drawing style: ``photo`` = filled colour shape on a tinted background,
``sketch`` = black outline on white (any other domain name gets a dashed-outline style). Same arguments,
same bytes.

>>> import tempfile
>>> from steervis.data.synthetic import make_toy_dataset
>>> root = make_toy_dataset(tempfile.mkdtemp(), per_class=2)
>>> sorted(p.name for p in (root / "photo" / "circle").iterdir())
['circle_000.png', 'circle_001.png']
"""

from __future__ import annotations

import hashlib
import math
import random
from pathlib import Path

from steervis.data.images import write_png
from steervis.data.manifest import write_manifest

SHAPES = ("circle", "square", "triangle", "star", "diamond", "cross")


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if shape == "square":
        corners = [(math.pi / 4 + k * math.pi / 2) for k in range(4)]
        return [(cx + r * math.cos(a + angle), cy + r * math.sin(a + angle)) for a in corners]
    if shape == "triangle":
        return [(cx + r * math.cos(a + angle), cy + r * math.sin(a + angle))
                for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    if shape == "diamond":
        return [(cx, cy - r), (cx + 0.6 * r, cy), (cx, cy + r), (cx - 0.6 * r, cy)]
    if shape == "star":
        pts = []
        for k in range(10):
            rad = r if k % 2 == 0 else 0.45 * r
            a = angle - math.pi / 2 + k * math.pi / 5
            pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
        return pts
    if shape == "cross":
        w = r / 3
        return [(cx - w, cy - r), (cx + w, cy - r), (cx + w, cy - w), (cx + r, cy - w), (cx + r, cy + w),
                (cx + w, cy + w), (cx + w, cy + r), (cx - w, cy + r), (cx - w, cy + w), (cx - r, cy + w),
                (cx - r, cy - w), (cx - w, cy - w)]
    raise ValueError(f"unknown toy shape {shape!r}; known: {', '.join(SHAPES)}")


def _draw(shape: str, domain: str, size: int, rng: random.Random):
    from PIL import Image, ImageDraw

    r = size * rng.uniform(0.25, 0.38)
    cx = size / 2 + rng.uniform(-0.08, 0.08) * size
    cy = size / 2 + rng.uniform(-0.08, 0.08) * size
    angle = rng.uniform(-0.3, 0.3)
    width = max(1, size // 24)
    if domain == "photo":
        bg = tuple(rng.randint(170, 240) for _ in range(3))
        fill, outline = tuple(rng.randint(20, 160) for _ in range(3)), None
    else:
        bg, fill, outline = (255, 255, 255), None, (0, 0, 0)
    img = Image.new("RGB", (size, size), bg)
    draw = ImageDraw.Draw(img)
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill, outline=outline, width=width)
    else:
        pts = _polygon(shape, cx, cy, r, angle)
        if outline is None:
            draw.polygon(pts, fill=fill)
        else:
            draw.line(pts + pts[:1], fill=outline, width=width, joint="curve")
    if domain not in ("photo", "sketch"):  # an extra style: knock gaps into the outline
        for k in range(0, size, max(2, size // 8)):
            draw.line([(k, 0), (k, size)], fill=bg, width=1)
    return img


def make_toy_dataset(
    root: str | Path,
    domains: tuple[str, ...] | list[str] = ("photo", "sketch"),
    classes: tuple[str, ...] | list[str] = ("circle", "square", "triangle"),
    per_class: int = 4,
    size: int = 64,
    seed: int = 0,
) -> Path:
    """Write ``<root>/<domain>/<class>/<class>_NNN.png`` shapes plus ``manifest.parquet``.

    Args:
        root: Output folder (created; existing files with the same names are overwritten).
        domains: Drawing styles; ``photo`` is filled colour, ``sketch`` black outline.
        classes: Shape names from :data:`SHAPES`.
        per_class: Images per domain and class.
        size: Side in pixels.
        seed: Base random seed; each image draws from its own seeded stream.

    Returns:
        ``root`` as a Path.
    """
    root = Path(root)
    rows = []
    for domain in domains:
        for cls in classes:
            for i in range(per_class):
                key = f"{seed}/{domain}/{cls}/{i}".encode()
                rng = random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))
                rel = f"{domain}/{cls}/{cls}_{i:03d}.png"
                digest = write_png(_draw(cls, domain, size, rng), root / rel)
                rows.append({"path": rel, "domain": domain, "class": cls, "source": "synthetic",
                             "licence": "CC0-1.0", "sha256": digest, "origin": f"{cls} seed={seed}"})
    write_manifest(root, rows)
    return root


def make_toy_pool(root: str | Path, per_shape: int = 6, size: int = 64, seed: int = 1) -> Path:
    """A tiny knowledge pool in the real pool's layout: every shape in three styles, each with a caption.

    Texts name the shape ("a sketch of a circle"), so REACT can retrieve for shape class names; the seed
    differs from :func:`make_toy_dataset`'s default, so no pool image is an evaluation image.
    """
    root = Path(root)
    rows = []
    for shape in SHAPES:
        for i in range(per_shape):
            style = ("photo", "sketch", "dashed")[i % 3]
            rng = random.Random(int.from_bytes(
                hashlib.sha256(f"pool/{seed}/{shape}/{i}".encode()).digest()[:8], "big"))
            rel = f"toy/{shape}_{i:03d}.png"
            digest = write_png(_draw(shape, style, size, rng), root / rel)
            rows.append({"path": rel, "text": f"a {'drawing' if style == 'dashed' else style} of a {shape}",
                         "lang": "en", "source": "toy", "licence": "CC0-1.0", "sha256": digest,
                         "concept": shape, "origin": f"{shape}/{i}"})
    write_manifest(root, rows,
                   columns=("path", "text", "lang", "source", "licence", "sha256", "concept", "origin"),
                   sort_by=("path",))
    return root
