"""COCO-format data in and out: any folder of images with an ``annotations.json`` (the scenes export this
format), detections written as COCO results, and AP@[.5:.95] / AP50 by pycocotools.

An object's phrase is its category's name, as GLIP's detection data (the scenes also keep each object's own
title in a ``phrase`` field: richer text, unused here). Boxes that cannot be a box (not four finite numbers,
no width or height, entirely off the image) are dropped and counted; a file that is not COCO at all is one
sentence.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from steervis.errors import SteervisError

ANNOTATIONS = "annotations.json"


@dataclass
class CocoImage:
    """One image and its objects: ``boxes`` ``[n, 4]`` xyxy pixels, ``phrases`` n names."""

    id: int
    path: Path
    width: int
    height: int
    boxes: np.ndarray
    phrases: list[str] = field(default_factory=list)
    kind: str = ""  # its style (photo, clipart, ...) where the folder names one: steervis scenes do


@dataclass
class CocoSet:
    """A COCO folder read: its images with their objects, its category names and the dropped boxes."""

    folder: Path
    images: list[CocoImage]
    categories: dict[int, str]
    dropped: int = 0

    @property
    def names(self) -> list[str]:
        """Every category name, in id order: the evaluation prompt."""
        return [self.categories[k] for k in sorted(self.categories)]


def _box(bbox: Any, width: int, height: int) -> list[float] | None:
    """A COCO ``[x, y, w, h]`` as xyxy clipped to the image, or None when it is not a usable box."""
    if not isinstance(bbox, list | tuple) or len(bbox) != 4:
        return None
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in bbox):
        return None
    x, y, w, h = (float(v) for v in bbox)
    x0, y0, x1, y1 = max(x, 0.0), max(y, 0.0), min(x + w, float(width)), min(y + h, float(height))
    return [x0, y0, x1, y1] if w > 0 and h > 0 and x1 > x0 and y1 > y0 else None


def _id(value: Any) -> Any:
    """An id as a look-up key: a number or text as given, anything else (a list, an object) None."""
    return value if isinstance(value, int | float | str) else None


def _load_json(folder: Path) -> dict[str, Any]:
    path = folder / ANNOTATIONS
    if not path.is_file():
        raise SteervisError(f"{folder} holds no {ANNOTATIONS}: give a COCO-format folder (images and "
                            f"{ANNOTATIONS}).")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SteervisError(f"{path} is not readable JSON ({type(err).__name__}).") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list)
                                             for k in ("images", "annotations", "categories")):
        raise SteervisError(f"{path} is not COCO: it needs lists of images, annotations and categories.")
    return data


def read_coco(folder: str | Path, limit: int | None = None) -> CocoSet:
    """The images of a COCO folder (the first ``limit``) with their usable boxes."""
    root = Path(folder).expanduser()
    data = _load_json(root)
    try:
        categories = {int(c["id"]): str(c["name"]) for c in data["categories"]}
        images = {int(i["id"]): CocoImage(int(i["id"]), root / str(i["file_name"]), int(i["width"]),
                                          int(i["height"]), np.zeros((0, 4), np.float32))
                  for i in data["images"][:limit]}
    except (KeyError, TypeError, ValueError) as err:
        raise SteervisError(f"{root / ANNOTATIONS} has an image or category without {err}.") from None
    found: dict[int, list[tuple[list[float], str]]] = {k: [] for k in images}
    # ids of the images past ``limit``: their boxes are left out, not dropped
    listed = {_id(i.get("id")) for i in data["images"] if isinstance(i, dict)} - {None}
    dropped = 0
    for ann in data["annotations"]:
        image = images.get(_id(ann.get("image_id"))) if isinstance(ann, dict) else None
        if image is None:
            dropped += not (isinstance(ann, dict) and _id(ann.get("image_id")) in listed)
            continue
        box = _box(ann.get("bbox"), image.width, image.height)
        name = categories.get(_id(ann.get("category_id")))
        if box is None or not isinstance(name, str):
            dropped += 1
            continue
        found[image.id].append((box, name))
    for key, objects in found.items():
        if objects:
            images[key].boxes = np.asarray([b for b, _ in objects], dtype=np.float32)
            images[key].phrases = [n for _, n in objects]
    kinds = _scene_kinds(root)
    for image in images.values():
        image.kind = kinds.get(image.path.relative_to(root).as_posix(), "")
    return CocoSet(root, list(images.values()), categories, dropped)


def _scene_kinds(root: Path) -> dict[str, str]:
    """Each image file's style where the folder is a steervis scenes split (its ``scenes.parquet``)."""
    table = root / "scenes.parquet"
    if not table.is_file():
        return {}
    import pyarrow.parquet as pq

    rows = pq.read_table(table, columns=["image", "kind"]).to_pylist()
    return {str(row["image"]): str(row["kind"]) for row in rows}


def class_agnostic(coco: CocoSet, detections: Sequence[Any]) -> tuple[CocoSet, list[Any]]:
    """The set and its detections with every name one ``object``: AP then scores finding things, not naming
    them (a grounder that finds every object but names it wrongly scores high here and low on AP)."""
    from steervis.ground.contract import Detections

    images = [CocoImage(im.id, im.path, im.width, im.height, im.boxes, ["object"] * len(im.phrases), im.kind)
              for im in coco.images]
    found = [Detections(d.boxes, d.scores, ["object"] * len(d.scores)) for d in detections]
    return CocoSet(coco.folder, images, {1: "object"}, coco.dropped), found


def by_kind(coco: CocoSet) -> dict[str, CocoSet]:
    """The set split by its images' styles, when it holds more than one (test-styles: one per style)."""
    kinds = sorted({image.kind for image in coco.images})
    if len(kinds) < 2:
        return {}
    return {kind: CocoSet(coco.folder, [im for im in coco.images if im.kind == kind], coco.categories)
            for kind in kinds}


PARTS = ("main", "val", "all")


def select_part(coco: CocoSet, part: str, limit: int | None = None) -> CocoSet:
    """The images of one part, in file order: ``val`` the last tenth (every scenes split's validation
    part, where settings are chosen), ``main`` the rest, ``all`` both; then the first ``limit`` of them."""
    from steervis.data.scenes.build import part_of

    if part not in PARTS:
        raise SteervisError(f"part={part!r} is not one of: {', '.join(PARTS)}.")
    n = len(coco.images)
    images = [im for k, im in enumerate(coco.images) if part == "all" or part_of(k, n) == part]
    return CocoSet(coco.folder, images[:limit], coco.categories, coco.dropped)


def results_json(image_ids: Sequence[int], detections: Sequence[Any],
                 categories: dict[int, str]) -> list[dict[str, Any]]:
    """COCO results (``image_id, category_id, bbox xywh, score``) of each image's detections; phrases that
    name no category are left out."""
    ids = {name: key for key, name in categories.items()}
    out = []
    for image_id, det in zip(image_ids, detections, strict=True):
        for (x0, y0, x1, y1), score, phrase in zip(det.boxes, det.scores, det.phrases, strict=True):
            if phrase in ids:
                out.append({"image_id": int(image_id), "category_id": ids[phrase], "score": float(score),
                            "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]})
    return out


def coco_ap(ground_truth: dict[str, Any], results: list[dict[str, Any]],
            image_ids: Sequence[int] | None = None, resamples: int = 0) -> dict[str, Any]:
    """``{"ap": AP@[.5:.95], "ap50": AP50, "ap75": AP75}`` by pycocotools (0 when nothing was detected);
    with ``resamples``, also ``ap_ci95`` and ``ap50_ci95``: 95 % bootstrap intervals over the images."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from steervis.ground.intervals import bootstrap_ap

    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        gt = COCO()
        gt.dataset = {k: ground_truth[k] for k in ("images", "annotations", "categories")}
        for ann in gt.dataset["annotations"]:
            ann.setdefault("iscrowd", 0)
            ann.setdefault("area", float(ann["bbox"][2] * ann["bbox"][3]))
        gt.createIndex()
        if not results:
            nothing = {"ap_ci95": [0.0, 0.0], "ap50_ci95": [0.0, 0.0]} if resamples else {}
            return {"ap": 0.0, "ap50": 0.0, "ap75": 0.0, **nothing}
        evaluation = COCOeval(gt, gt.loadRes(results), "bbox")
        if image_ids is not None:
            evaluation.params.imgIds = list(image_ids)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    stats = [max(float(s), 0.0) for s in evaluation.stats[:3]]  # -1: no ground truth in a cell
    intervals = bootstrap_ap(evaluation, resamples) if resamples else {}
    return {"ap": stats[0], "ap50": stats[1], "ap75": stats[2], **intervals}


def coco_set_ap(coco: CocoSet, detections: Sequence[Any], resamples: int = 0) -> dict[str, Any]:
    """AP of detections on a read :class:`CocoSet` (its usable boxes are the ground truth), with bootstrap
    intervals over its images when ``resamples`` is given."""
    names = {name: key for key, name in coco.categories.items()}
    anns, next_id = [], 1
    for image in coco.images:
        for (x0, y0, x1, y1), phrase in zip(image.boxes, image.phrases, strict=True):
            if phrase in names:
                anns.append({"id": next_id, "image_id": image.id, "category_id": names[phrase],
                             "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]})
                next_id += 1
    truth = {"images": [{"id": i.id, "width": i.width, "height": i.height} for i in coco.images],
             "annotations": anns, "categories": [{"id": k, "name": v} for k, v in coco.categories.items()]}
    ids = [i.id for i in coco.images]
    return coco_ap(truth, results_json(ids, detections, coco.categories), ids, resamples)
