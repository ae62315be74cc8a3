"""The ``llava`` captioner for describe: steervis' own LLaVA writes the captions VLLaVO gets from BLIP.

It follows describe's ``Captioner`` contract (``caption``; and ``preprocess`` / ``caption_pixels``, which the
describer calls from its decoding threads and its batches): per image, one greedy (or beam) caption, then
``samples`` sampled ones, each sampling call seeded. The model is the latest one trained here (stage 2, else
stage 1) unless ``model`` names a saved folder, ``stage1`` / ``stage2``, ``tiny-llava`` or a hub Llava id.
Registered in describe's ``CAPTIONERS`` as ``llava`` (latest trained) and ``tiny-llava`` (random, tests):
``steervis describe --set captioner=llava``.

>>> from steervis.llava.captioner import LlavaCaptioner
>>> cap = LlavaCaptioner(model="tiny-llava")  # doctest: +SKIP
>>> cap.caption([image], beams=1, samples=2)  # doctest: +SKIP
[['a drawing of a dog.', '...', '...']]
"""

from __future__ import annotations

from typing import Any


class LlavaCaptioner:
    """Images → captions by a :class:`~steervis.llava.model.VLM` (``prompt`` is BLIP's text prefix, unused
    here: the model's own caption template decides how it is asked)."""

    def __init__(self, model: str | None = None, prompt: str = "", max_new_tokens: int = 30, seed: int = 0,
                 device: str = "auto", dtype: str = "auto"):
        from steervis.llava.vlms import open_vlm

        self.vlm = open_vlm(model, device=device, dtype=dtype)
        self.max_new_tokens, self.seed = max_new_tokens, seed
        self.name = "llava" if model is None else f"llava:{model}"
        self.provenance = {"captioner": self.name, "template": self.vlm.config.caption_template,
                           "card_stages": sorted(self.vlm.stages)}

    @staticmethod
    def identity() -> str:
        """What ``llava`` is now: the latest trained VLM's files by content, so a retrained model is a new
        describer."""
        from steervis.card import has_card
        from steervis.llava.model import vlm_identity
        from steervis.paths import cache_dir

        for stage in ("stage2", "stage1"):  # the order open_vlm picks the model in
            if has_card(cache_dir("models", "vlm") / stage):
                return f"llava@{vlm_identity(stage)}"
        return "llava"

    def preprocess(self, images: list[Any]) -> Any:
        """What the model's splicer reads, stacked: tower tokens ``[n, t, d]`` or pixels ``[n, 3, h, w]``."""
        import torch

        return torch.stack(self.vlm.visual(list(images)))

    def caption_pixels(self, pixels: Any, beams: int, samples: int) -> list[list[str]]:
        """Captions of :meth:`preprocess` outputs (concatenated over a batch)."""
        return self.caption(list(pixels), beams=beams, samples=samples)

    def caption(self, images: list[Any], beams: int = 1, samples: int = 10) -> list[list[str]]:
        return self.vlm.caption(images, beams=beams, samples=samples, max_new_tokens=self.max_new_tokens,
                                seed=self.seed)


def tiny_llava_captioner(**options: Any) -> LlavaCaptioner:
    """The captioner on the random ``tiny-llava`` (tests)."""
    return LlavaCaptioner(model="tiny-llava", **options)
