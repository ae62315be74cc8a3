"""The Grounder contract: images and a prompt of phrases in, per image its boxes, scores and phrases out.

Every grounder (the GLIP-style model trained here, the crop baseline, the hub's open-vocabulary detectors)
answers ``ground(images, prompt) -> list[Detections]``: one :class:`Detections` per image, boxes ``xyxy``
in the image's pixels, highest score first; an image without the prompted objects gets an empty one.

>>> det = Detections.empty()
>>> boxes, scores, phrases = det
>>> boxes.shape, len(det)
((0, 4), 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np

from steervis.errors import SteervisError

MAX_PIXELS = 40_000_000  # the same ceiling as steervis' image reader: a bigger image is a mistake or a bomb


class Detections(NamedTuple):
    """One image's detections: ``boxes`` ``[n, 4]`` xyxy pixels, ``scores`` ``[n]``, ``phrases`` n names."""

    boxes: np.ndarray
    scores: np.ndarray
    phrases: list[str]

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.float32), [])

    def __len__(self) -> int:  # type: ignore[override]  # the number of boxes, not of fields
        return len(self.scores)

    def to_json(self) -> list[dict[str, Any]]:
        return [{"phrase": p, "score": round(float(s), 4), "box": [round(float(v), 1) for v in b]}
                for b, s, p in zip(self.boxes, self.scores, self.phrases, strict=True)]


class Grounder(Protocol):
    """Anything that locates a prompt's phrases in images."""

    def ground(self, images: Sequence[Any], prompt: str) -> list[Detections]: ...


def check_images(images: Any) -> list[Any]:
    """A list of RGB PIL images from one image or a sequence of them; a huge one is one sentence."""
    from PIL import Image

    items = [images] if isinstance(images, Image.Image) else list(images)
    for img in items:
        if not isinstance(img, Image.Image):
            raise SteervisError(f"A grounder reads PIL images, not {type(img).__name__}.")
        if img.width * img.height > MAX_PIXELS:
            raise SteervisError(f"The image is {img.width}×{img.height} pixels; at most {MAX_PIXELS:,} are "
                                "read (shrink it first).")
    return [img.convert("RGB") for img in items]


def finish(boxes: Any, scores: Any, labels: Any, phrases: Sequence[str], size: tuple[int, int],
           threshold: float, iou: float, limit: int) -> Detections:
    """Candidates of one image → its detections: over ``threshold``, NMS per phrase at ``iou``, the best
    ``limit``, boxes clipped to the image (``size`` is its width, height).

    Args:
        boxes: ``[n, 4]`` xyxy pixel boxes (torch); scores: ``[n]``; labels: ``[n]`` phrase indices.
    """
    from steervis.ground.boxes import batched_nms

    keep = scores > threshold
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    order = batched_nms(boxes, scores, labels, iou)[:limit]
    if order.numel() == 0:
        return Detections.empty()
    width, height = size
    out = boxes[order].float().clone()
    out[:, 0::2] = out[:, 0::2].clamp(0, width)
    out[:, 1::2] = out[:, 1::2].clamp(0, height)
    return Detections(out.numpy().astype(np.float32), scores[order].float().numpy(),
                      [phrases[int(i)] for i in labels[order]])
