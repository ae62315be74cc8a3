"""A transformers CLIP-style dual encoder as a matcher: any CLIP or SigLIP hub id, or ``tiny-clip`` in
tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from steervis.matchers.text_cache import normalise


class CLIPMatcher:
    """A transformers CLIP-style dual encoder (CLIP, SigLIP, tiny random CLIP in tests)."""

    class_probs = False  # no classifier head: the imagenet tagger is not available

    def __init__(self, model_id: str, disk_cache: bool = True, device: str = "auto", dtype: str = "auto"):
        from steervis import zoo
        from steervis.device import precision_identity

        self.precision = precision_identity(device, dtype)  # keys its cached embeddings beside its name
        bundle = zoo.load(model_id, kind="clip", device=device, dtype=dtype)
        self.model, self.processor, self.name = bundle.model, bundle.processor, model_id
        self.disk_cache = disk_cache
        self._memo: dict[str, np.ndarray] = {}
        self.provenance = {"matcher": model_id}

    def preprocess(self, images: list[Image.Image]) -> Any:
        return self.processor.image_processor(images, return_tensors="pt")["pixel_values"]

    @staticmethod
    def _features(out: Any) -> np.ndarray:
        import torch

        tensor = out if torch.is_tensor(out) else out.pooler_output  # transformers 5 wraps projected features
        return normalise(tensor.float().cpu().numpy())

    def encode_pixels(self, pixels: Any) -> np.ndarray:
        import torch

        from steervis.device import beside

        with torch.inference_mode():
            return self._features(self.model.get_image_features(pixel_values=beside(pixels, self.model)))

    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        return self.encode_pixels(self.preprocess(images))

    def encode_texts(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        import torch

        from steervis.device import beside

        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        max_len = getattr(self.model.config.text_config, "max_position_embeddings", 77)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            tokens = self.processor.tokenizer(chunk, padding=True, truncation=True, max_length=max_len,
                                              return_tensors="pt")
            tokens = {k: beside(v, self.model) for k, v in tokens.items()}
            with torch.inference_mode():
                self._memo.update(zip(chunk, self._features(self.model.get_text_features(**tokens)),
                                      strict=True))
        if not texts:
            return np.zeros((0, self.model.config.projection_dim), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts])


class TinyCLIP(CLIPMatcher):
    """A random tiny CLIP for tests; its text embeddings are never kept on disk."""

    def __init__(self, device: str = "auto", dtype: str = "auto") -> None:
        super().__init__("tiny-clip", disk_cache=False, device=device, dtype=dtype)
