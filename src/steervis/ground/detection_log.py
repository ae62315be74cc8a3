"""A resumable ``steervis ground eval``: each batch's detections are appended to a JSON-lines file beside the
result (``X.json`` → ``X.detections.jsonl``), so a killed evaluation continues where it stopped.

The file's first line is the evaluation's identity (:mod:`steervis.identity`'s record and key: the grounder,
by the hash of its folder's files when trained here; the data folder and its annotations' bytes; the part
and image count; the prompt mode; the threshold and phrases read a pass; the precision; the behaviour
versions of the code). Then per batch its COCO results rows (``image_id, category_id, bbox xywh, score``)
and a line ``{"images": [...]}`` closing the batch (an image without detections is done too). A file of
another identity is started again, never read; what follows the last closed batch (a kill mid-write, a torn
line) is cut off before appending. The finished file is the evaluation's COCO results, one row a line.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from steervis.ground.contract import Detections

log = logging.getLogger(__name__)

SUFFIX = ".detections.jsonl"


def log_path(out: str | Path) -> Path:
    """The detections file beside a result ``X.json``: ``X.detections.jsonl``."""
    out = Path(out)
    return out.with_name(out.stem + SUFFIX)


def eval_identity(cfg: Any, coco: Any, chunk: int) -> dict[str, Any]:
    """The stamped identity record of one evaluation (``cfg`` an EvalConfig, ``coco`` its read part)."""
    from steervis.device import precision_identity
    from steervis.ground.coco import ANNOTATIONS
    from steervis.ground.grounders import grounder_identity
    from steervis.identity import artifact_record, file_identity, stamped

    config = {"grounder": cfg.grounder, "data": str(Path(coco.folder).resolve()), "part": cfg.part,
              "images": len(coco.images), "prompts": cfg.prompts, "threshold": cfg.threshold,
              "nms_iou": cfg.nms_iou, "chunk": chunk,
              "dtype": precision_identity(cfg.device, cfg.dtype)}
    return stamped(artifact_record("ground-detections", config=config,
                                   inputs=[file_identity(Path(coco.folder) / ANNOTATIONS)],
                                   weights=[grounder_identity(cfg.grounder)]))


class DetectionLog:
    """The detections file of one evaluation: the batches already done, and appending the next."""

    def __init__(self, path: str | Path, identity: dict[str, Any]):
        self.path, self.identity = Path(path), identity
        self.rows: dict[int, list[dict[str, Any]]] = {}  # image id → its COCO results rows
        if not self._resume():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._write(json.dumps({"identity": identity}) + "\n", mode="w")

    def _resume(self) -> bool:
        """Read the closed batches of a file of this identity and cut off the rest; False: start again."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return False
        lines = data.split(b"\n")[:-1]  # what follows the last newline is a torn line
        if not lines or _parse(lines[0]).get("identity", {}).get("key") != self.identity["key"]:
            log.warning("%s is of another evaluation (or none): grounding every image again", self.path)
            return False
        kept = end = len(lines[0]) + 1
        pending: list[dict[str, Any]] = []
        for line in lines[1:]:
            row = _parse(line)
            if not ("images" in row or _is_result(row)):
                break  # a damaged line: nothing after it is trusted
            end += len(line) + 1
            if "images" in row:
                for image_id in row["images"]:
                    self.rows[int(image_id)] = [r for r in pending if r["image_id"] == image_id]
                pending, kept = [], end
            else:
                pending.append(row)
        if kept < len(data):
            os.truncate(self.path, kept)
        return True

    def _write(self, text: str, mode: str = "a") -> None:
        with self.path.open(mode) as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # a batch is on disk before the next one starts

    def append(self, image_ids: Sequence[int], rows: list[dict[str, Any]]) -> None:
        """One batch: its images' rows, then the line closing it, in one write."""
        ids = [int(i) for i in image_ids]
        self._write("".join(json.dumps(r) + "\n" for r in rows) + json.dumps({"images": ids}) + "\n")
        for image_id in ids:
            self.rows[image_id] = [r for r in rows if r["image_id"] == image_id]

    def detections(self, categories: dict[int, str]) -> dict[int, Detections]:
        """The done images' detections, as their grounder gave them (phrases are category names)."""
        out = {}
        for image_id, rows in self.rows.items():
            boxes = np.asarray([[x, y, x + w, y + h] for x, y, w, h in (r["bbox"] for r in rows)],
                               dtype=np.float64).reshape(-1, 4)
            out[image_id] = Detections(boxes, np.asarray([r["score"] for r in rows], dtype=np.float64),
                                       [categories[r["category_id"]] for r in rows])
        return out


def _parse(line: bytes) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError both are
        return {}
    return row if isinstance(row, dict) else {}


def _is_result(row: dict[str, Any]) -> bool:
    bbox = row.get("bbox")
    return (isinstance(row.get("image_id"), int) and isinstance(row.get("category_id"), int)
            and isinstance(row.get("score"), float | int) and isinstance(bbox, list) and len(bbox) == 4)
