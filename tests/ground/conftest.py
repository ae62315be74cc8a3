"""Toy COCO folders of coloured squares drawn with PIL: what a tiny grounder can learn in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

COLOURS = {"red": (220, 30, 30), "green": (30, 170, 40), "blue": (30, 60, 220)}
# (colour, x, y, side) per image: each colour once or twice, in different places and sizes
LAYOUTS = [
    [("red", 8, 8, 40), ("blue", 70, 60, 48)],
    [("green", 60, 10, 50), ("red", 10, 70, 44)],
    [("blue", 12, 14, 46), ("green", 72, 72, 40)],
    [("red", 66, 8, 44), ("green", 8, 62, 48), ("blue", 78, 78, 36)],
]


def write_toy_coco(folder: Path, layouts=LAYOUTS, size: int = 128) -> Path:
    """Images of coloured squares on white and their ``annotations.json`` (category = colour word)."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    cats = {name: i + 1 for i, name in enumerate(COLOURS)}
    images, anns = [], []
    for k, layout in enumerate(layouts):
        img = Image.new("RGB", (size, size), "white")
        draw = ImageDraw.Draw(img)
        for colour, x, y, side in layout:
            draw.rectangle([x, y, x + side - 1, y + side - 1], fill=COLOURS[colour])
            anns.append({"id": len(anns) + 1, "image_id": k + 1, "category_id": cats[colour],
                         "bbox": [x, y, side, side], "area": side * side, "iscrowd": 0})
        img.save(folder / "images" / f"{k}.png")
        images.append({"id": k + 1, "file_name": f"images/{k}.png", "width": size, "height": size})
    data = {"images": images, "annotations": anns,
            "categories": [{"id": i, "name": n} for n, i in cats.items()]}
    (folder / "annotations.json").write_text(json.dumps(data))
    return folder


@pytest.fixture
def toy_coco(tmp_path) -> Path:
    return write_toy_coco(tmp_path / "toy")


@pytest.fixture
def toy_coco_of(tmp_path):
    """A toy COCO folder of some of :data:`LAYOUTS`, by index, in the given order."""
    return lambda order: write_toy_coco(tmp_path / ("toy-" + "".join(map(str, order))),
                                        [LAYOUTS[k] for k in order])


@pytest.fixture
def toy_colours() -> dict[str, tuple[int, int, int]]:
    return dict(COLOURS)
