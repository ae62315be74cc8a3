"""The zero-shot crop baseline: sliding windows at a few scales, each crop matched against the prompt's
phrases by a matcher (ConSE by default: it has seen no scene and no held-out concept), as a Grounder.

A window's score for a phrase is the softmax over the prompt's phrases of the crop–phrase cosines (at
``temperature``): each window votes for the phrase it looks most like; NMS per phrase keeps the best windows.

>>> windows(320, 320, scales=(0.5,), overlap=0.5)[:2]
[(0, 0, 160, 160), (80, 0, 240, 160)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from steervis.ground.contract import Detections, check_images, finish
from steervis.ground.glip import InferSettings
from steervis.ground.prompts import split_phrases


@dataclass
class CropSettings:
    """Which windows are cut and how their cosines become scores."""

    scales: list[float] = field(default_factory=lambda: [0.25, 0.4, 0.6])  # window side / the image's longer
    overlap: float = 0.5  # windows step half their side
    temperature: float = 0.05  # ConSE cosines differ by hundredths: a sharp softmax separates them
    batch_size: int = 64


def _starts(length: int, side: int, step: int) -> list[int]:
    last = max(length - side, 0)
    starts = list(range(0, last + 1, step))
    return starts if starts[-1] == last else [*starts, last]  # the last window touches the far edge


def windows(width: int, height: int, scales: Sequence[float],
            overlap: float) -> list[tuple[int, int, int, int]]:
    """xyxy windows covering the image at each scale, stepping ``1 - overlap`` of their side."""
    out = []
    for scale in scales:
        side = max(1, round(scale * max(width, height)))
        step = max(1, round(side * (1 - overlap)))
        for y in _starts(height, side, step):
            for x in _starts(width, side, step):
                out.append((x, y, min(x + side, width), min(y + side, height)))
    return list(dict.fromkeys(out))


class CropGrounder:
    """Sliding-window crops classified by a matcher against the prompt's phrases."""

    def __init__(self, matcher: Any, crops: CropSettings | None = None,
                 settings: InferSettings | None = None):
        self.matcher = matcher
        self.crops = crops or CropSettings()
        self.settings = settings or InferSettings()

    @classmethod
    def create(cls, matcher: str = "conse", device: str = "auto", dtype: str = "auto",
               **kwargs: Any) -> CropGrounder:
        from steervis.matchers import build_matcher

        built = build_matcher(matcher, device=device, dtype=dtype)  # shared: others fine-tune its models
        # windows are only classified: a folded inference copy runs ConSE's 224² crops 2.8x faster on a CPU
        fast = getattr(built, "for_inference", None)
        return cls(fast() if fast else built, **kwargs)

    def ground(self, images: Sequence[Any], prompt: str) -> list[Detections]:
        phrases = split_phrases(prompt)
        texts = torch.from_numpy(np.asarray(self.matcher.encode_texts(phrases), dtype=np.float32))
        return [self._one(img, phrases, texts) for img in check_images(images)]

    def _one(self, image: Any, phrases: list[str], texts: torch.Tensor) -> Detections:
        boxes = windows(image.width, image.height, self.crops.scales, self.crops.overlap)
        size = self.crops.batch_size
        emb = np.concatenate([self.matcher.encode_images([image.crop(b) for b in boxes[i : i + size]])
                              for i in range(0, len(boxes), size)])
        cos = torch.from_numpy(np.asarray(emb, dtype=np.float32)) @ texts.T  # [windows, phrases]
        scores = torch.softmax(cos / self.crops.temperature, dim=-1)
        flat = scores.flatten()
        labels = torch.arange(len(phrases)).repeat(len(boxes))
        box_t = torch.tensor(boxes, dtype=torch.float32).repeat_interleave(len(phrases), dim=0)
        cfg = self.settings
        return finish(box_t, flat, labels, phrases, image.size, cfg.threshold, cfg.nms_iou,
                      cfg.max_detections)
