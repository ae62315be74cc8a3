"""The hub's open-vocabulary detectors behind the Grounder contract: OWL-ViT, OWLv2 and Grounding DINO
(transformers' classes), by hub id; tiny random configs of the same classes for tests.

They are untested with real weights here (no registry carries them, and this machine has no network): the
tests run the real classes at toy sizes, so the code path (tokenising, the forward pass, reading boxes and
scores back, the per-phrase NMS) is checked, not the detectors' quality.

* OWL-ViT / OWLv2 read each phrase as its own query and score every image patch against each: a phrase's
  score is its query's sigmoid. OWL-ViT's boxes are fractions of the image, OWLv2's of the image padded to a
  square at its right and bottom.
* Grounding DINO reads the prompt as one sentence, as GLIP: a phrase's score is the mean of its tokens'
  sigmoids (the positive map), and its boxes are fractions of the image.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from steervis.ground.boxes import cxcywh_to_xyxy
from steervis.ground.contract import Detections, check_images, finish
from steervis.ground.glip import InferSettings
from steervis.ground.prompts import chunk_phrases, encode_phrases, split_phrases
from steervis.registry import Registry

FAMILIES = Registry("detector family")  # model_type → how its outputs become phrase scores and boxes


class HubDetector:
    """A transformers zero-shot detector (its model, tokenizer and image processor) as a Grounder."""

    def __init__(self, model: Any, tokenizer: Any, image_processor: Any,
                 settings: InferSettings | None = None):
        self.model, self.tokenizer, self.image_processor = model.eval(), tokenizer, image_processor
        self.family = FAMILIES.get(model.config.model_type)
        self.settings = settings or InferSettings()

    @torch.inference_mode()
    def ground(self, images: Sequence[Any], prompt: str) -> list[Detections]:
        phrases = split_phrases(prompt)
        items = check_images(images)
        if not items:
            return []
        size = self.settings.chunk
        chunks = [self.family.score(self, items, chunk, k * size)
                  for k, chunk in enumerate(chunk_phrases(phrases, size))]
        out, cfg = [], self.settings
        for i, img in enumerate(items):
            boxes = torch.cat([c[0][i] for c in chunks])
            scores = torch.cat([c[1][i] for c in chunks])
            labels = torch.cat([c[2][i] for c in chunks])
            out.append(finish(boxes, scores, labels, phrases, img.size, cfg.threshold, cfg.nms_iou,
                              cfg.max_detections))
        return out

    def pixels(self, images: list[Any]) -> dict[str, torch.Tensor]:
        from steervis.device import beside

        batch = self.image_processor(images=images, return_tensors="pt")
        return {k: beside(v, self.model) for k, v in batch.items() if k in ("pixel_values", "pixel_mask")}


def _flatten(boxes: torch.Tensor, scores: torch.Tensor, offset: int) -> tuple[list, list, list]:
    """``[b, q, 4]`` pixel boxes and ``[b, q, p]`` phrase scores → per image every (query, phrase) pair's
    box, score and phrase index (offset by the chunk's first phrase)."""
    n_phrases = scores.shape[-1]
    out_boxes, out_scores, out_labels = [], [], []
    for b in range(scores.shape[0]):
        flat = scores[b].flatten()
        out_boxes.append(boxes[b].repeat_interleave(n_phrases, dim=0))
        out_scores.append(flat)
        out_labels.append(torch.arange(n_phrases).repeat(scores.shape[1]) + offset)
    return out_boxes, out_scores, out_labels


class OwlFamily:
    """OWL-ViT and OWLv2: one text query per phrase."""

    def __init__(self, square: bool):
        self.square = square  # OWLv2 pads to a square: its boxes are fractions of the square

    def score(self, det: HubDetector, images: list[Any], phrases: list[str],
              offset: int) -> tuple[list, list, list]:
        from steervis.device import beside

        text = det.tokenizer(list(phrases) * len(images), padding="max_length", truncation=True,
                             max_length=16, return_tensors="pt")  # OWL's text window is 16 tokens
        out = det.model(input_ids=beside(text["input_ids"], det.model),
                        attention_mask=beside(text["attention_mask"], det.model), **det.pixels(images))
        scale = torch.tensor([[max(i.size)] * 2 if self.square else list(i.size) for i in images],
                             dtype=torch.float32).repeat(1, 2)[:, None, :]
        boxes = cxcywh_to_xyxy(out.pred_boxes.float().cpu()) * scale
        return _flatten(boxes, torch.sigmoid(out.logits.float().cpu()), offset)


class GroundingDinoFamily:
    """Grounding DINO: the prompt as one sentence, phrases scored by their tokens."""

    def score(self, det: HubDetector, images: list[Any], phrases: list[str],
              offset: int) -> tuple[list, list, list]:
        from steervis.device import beside

        enc = encode_phrases(det.tokenizer, phrases, max_length=256)  # Grounding DINO's text window
        n = len(images)
        out = det.model(input_ids=beside(enc.input_ids.expand(n, -1), det.model),
                        attention_mask=beside(enc.attention_mask.expand(n, -1), det.model),
                        **det.pixels(images))
        probs = torch.sigmoid(out.logits.float().cpu())[..., : enc.positive.shape[1]]
        scale = torch.tensor([list(i.size) * 2 for i in images], dtype=torch.float32)[:, None, :]
        boxes = cxcywh_to_xyxy(out.pred_boxes.float().cpu()) * scale
        return _flatten(boxes, probs @ enc.positive.T, offset)


FAMILIES.register("owlvit", OwlFamily(square=False), help="OWL-ViT")
FAMILIES.register("owlv2", OwlFamily(square=True), help="OWLv2")
FAMILIES.register("grounding-dino", GroundingDinoFamily(), help="Grounding DINO")


def load_hub_detector(model_id: str, device: str = "auto", dtype: str = "auto",
                      settings: InferSettings | None = None) -> HubDetector:
    """A hub id's detector (offline: from the local Hugging Face cache, else one sentence)."""
    from steervis.device import place
    from steervis.zoo.core import load_from_hub

    def loader(name: str, **kwargs: Any) -> HubDetector:
        from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

        processor = AutoProcessor.from_pretrained(name, **kwargs)
        model = AutoModelForZeroShotObjectDetection.from_pretrained(name, **kwargs)
        return HubDetector(place(model, device, dtype), processor.tokenizer, processor.image_processor,
                           settings)

    return load_from_hub(model_id, "detector", loader)
