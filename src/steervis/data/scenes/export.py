"""Scenes for other tools and for the eye: a COCO ``annotations.json`` and a contact sheet with boxes.

COCO (``images``, ``annotations``, ``categories``): a box per object (``[x, y, w, h]`` of its visible
pixels), its visible area, its mask as uncompressed run-length counts (column-major, as pycocotools reads
them) and the category of its name; every image entry also carries the scene's reference caption.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from steervis.atomic import write_text
from steervis.data.images import open_image, write_png

if TYPE_CHECKING:
    import numpy as np


def rle(mask: np.ndarray) -> dict:
    """COCO's uncompressed run-length encoding of a boolean mask: runs in column-major order, zeros
    first."""
    import numpy as np

    flat = np.asarray(mask, dtype=np.uint8).ravel(order="F")
    edges = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate([[0], edges, [len(flat)]])).tolist()
    if flat[0]:
        runs = [0, *runs]
    return {"counts": runs, "size": [int(mask.shape[0]), int(mask.shape[1])]}


def coco(scenes: list[dict], root: Path) -> dict:
    """The COCO dictionary of a split's scenes (masks read from ``root``)."""
    import numpy as np

    names = sorted({o["name"] for s in scenes for o in s["objects"]})
    category = {n: i + 1 for i, n in enumerate(names)}
    images, annotations = [], []
    for s in scenes:
        image_id = s["index"] + 1  # COCO ids start at 1
        images.append({"id": image_id, "file_name": s["image"], "width": s["width"], "height": s["height"],
                       "caption": s["caption"]})
        label = np.asarray(open_image(root / s["mask"]))[:, :, 0]
        for k, o in enumerate(s["objects"]):
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": category[o["name"]], "bbox": o["box"], "area": o["area"],
                                "iscrowd": 0, "segmentation": rle(label == k + 1), "phrase": o["phrase"]})
    return {"info": {"description": "steervis scenes"}, "images": images, "annotations": annotations,
            "categories": [{"id": i, "name": n, "supercategory": "object"} for n, i in category.items()]}


def write_coco(scenes: list[dict], root: Path) -> Path:
    return write_text(root / "annotations.json", json.dumps(coco(scenes, root)))


def contact_sheet(scenes: list[dict], root: Path, out: Path, count: int = 12, thumb: int = 240) -> Path:
    """The first ``count`` scenes, each with its boxes, names (and colours) and its caption underneath."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=12)
    cols = 4
    chosen = scenes[:count]
    cell = (thumb + 8, thumb + 40)
    rows = max(1, (len(chosen) + cols - 1) // cols)
    sheet = Image.new("RGB", (cols * cell[0], rows * cell[1]), "white")
    draw = ImageDraw.Draw(sheet)
    for i, s in enumerate(chosen):
        x, y = (i % cols) * cell[0] + 4, (i // cols) * cell[1] + 4
        img = open_image(root / s["image"])
        scale = thumb / img.width
        sheet.paste(img.resize((thumb, thumb)), (x, y))
        for o in s["objects"]:
            bx, by, bw, bh = (v * scale for v in o["box"])
            draw.rectangle([x + bx, y + by, x + bx + bw, y + by + bh], outline=(220, 0, 0))
            label = f"{o['colour']} {o['name']}" if o["colour"] else o["name"]
            draw.text((x + bx + 2, y + by + 1), label, fill=(220, 0, 0), font=font)
        words = s["caption"]
        draw.text((x, y + thumb + 2), words[:40], fill="black", font=font)
        draw.text((x, y + thumb + 16), words[40:80], fill="black", font=font)
    write_png(sheet, out)
    return out
