"""The GLIP-style model trained here as a Grounder: frozen trunk and text encoder, the trained head, prompts
read in chunks.

A prompt's phrases are read ``chunk`` at a time (GLIP's evaluation over long label lists): each chunk is one
sentence for the text encoder, each phrase scored at every location by the mean of its tokens' alignment
probabilities (the positive map), and the chunks' detections merged (sigmoid scores need no
renormalisation across chunks), then NMS per phrase.

>>> grounder = GlipGrounder.create(GlipConfig(trunk="tiny", stride=16, size=64, text="tiny-bert", hidden=8))
>>> [len(d) for d in grounder.ground([Image.new("RGB", (64, 48))], "a dog. a guitar.")]  # doctest: +SKIP
[0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image  # noqa: F401 (the doctest's images)

from steervis.ground.contract import Detections, check_images, finish
from steervis.ground.model import GlipConfig, GlipHead
from steervis.ground.prompts import CHUNK, chunk_phrases, encode_phrases, split_phrases


@dataclass
class InferSettings:
    """How detections are kept (to be chosen on validation scenes)."""

    threshold: float = 0.05  # low: COCO AP rewards recall at low scores; a display may raise it
    nms_iou: float = 0.5  # the usual detection NMS overlap
    max_detections: int = 100  # COCO's per-image limit
    chunk: int = CHUNK  # phrases per encoder pass


class GlipGrounder:
    """Trunk → head ← text encoder; ``ground(images, prompt)``."""

    def __init__(self, head: GlipHead, trunk: torch.nn.Module, text: Any,
                 settings: InferSettings | None = None):
        self.head, self.trunk, self.text = head.eval(), trunk, text
        self.settings = settings or InferSettings()

    @classmethod
    def create(cls, config: GlipConfig, head: GlipHead | None = None, device: str = "auto",
               dtype: str = "auto", settings: InferSettings | None = None) -> GlipGrounder:
        """The frozen parts a config names, loaded on ``device``, with ``head`` (a new random one if None)."""
        from steervis.device import place
        from steervis.ground.parts import TEXT_ENCODERS, TRUNKS

        spec = config.trunk_spec()
        trunk = TRUNKS.get(spec.name)(spec, device=device, dtype=dtype)
        text = TEXT_ENCODERS.get(config.text)(device=device, dtype=dtype)
        return cls(place(head or GlipHead(config), device, dtype), trunk, text, settings)

    @classmethod
    def load(cls, directory: str | Path, device: str = "auto", dtype: str = "auto",
             settings: InferSettings | None = None) -> GlipGrounder:
        head = GlipHead.load(directory)
        return cls.create(head.config, head, device=device, dtype=dtype, settings=settings)

    def ground(self, images: Sequence[Any], prompt: str) -> list[Detections]:
        from steervis.ground.parts import trunk_features

        phrases = split_phrases(prompt)
        items = check_images(images)
        if not items:
            return []
        grid, sides = trunk_features(self.trunk, items, self.head.config.size)
        return self.detect(grid, sides, [img.size for img in items], phrases)

    @torch.inference_mode()
    def phrase_scores(self, grid: torch.Tensor, phrases: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """``[b, hw, phrases, 4]`` unit-square boxes and ``[b, hw, phrases]`` scores, the prompt read in
        chunks (with fusion a location's box depends on the chunk it read, so each phrase keeps its own)."""
        from steervis.device import beside

        scores, boxes = [], []
        for chunk in chunk_phrases(phrases, self.settings.chunk):
            enc = encode_phrases(self.text.tokenizer, chunk)
            tokens = self.text.states(enc.input_ids, enc.attention_mask)
            n = grid.shape[0]
            unit, logits = self.head(beside(grid, self.head), beside(tokens, self.head).expand(n, -1, -1),
                                     beside(enc.attention_mask, self.head).expand(n, -1))
            scores.append((torch.sigmoid(logits.float()) @ enc.positive.to(logits.device).T).cpu())
            boxes.append(unit.float().cpu()[:, :, None, :].expand(-1, -1, len(chunk), -1))
        return torch.cat(boxes, dim=2), torch.cat(scores, dim=-1)

    def detect(self, grid: torch.Tensor, sides: Sequence[float], sizes: Sequence[tuple[int, int]],
               phrases: Sequence[str]) -> list[Detections]:
        """Detections from trunk features (``[b, c, h, w]``), each image's square side and (width, height)."""
        boxes, scores = self.phrase_scores(grid, phrases)
        cfg, out = self.settings, []
        for unit, score, side, size in zip(boxes, scores, sides, sizes, strict=True):
            # every location × phrase is a candidate; the best few hundred go to NMS
            flat = score.flatten()
            top = flat.topk(min(len(flat), 10 * cfg.max_detections)).indices
            labels = top % score.shape[1]
            pixels = unit.reshape(-1, 4)[top] * side
            out.append(finish(pixels, flat[top], labels, phrases, size, cfg.threshold, cfg.nms_iou,
                              cfg.max_detections))
        return out
