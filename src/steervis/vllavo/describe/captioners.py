"""Captioners: any transformers image-to-text model by hub id (BLIP, GIT), ``tiny-blip`` for tests, and
``llava``: steervis' own LLaVA (``steervis.llava.captioner``), the offline captioner once it is trained.

VLLaVO's recipe is the default: continue the prompt "a picture of" with one beam-search caption, then 10
nucleus-sampled ones. Offline there is no captioner; descriptions then carry tags and attributes only.

>>> from steervis.vllavo.describe.captioners import build_captioner
>>> cap = build_captioner("tiny-blip")  # doctest: +SKIP
>>> cap.caption([img], beams=1, samples=2)  # doctest: +SKIP
[['a picture of ...', 'a picture of ...', 'a picture of ...']]
"""

from __future__ import annotations

import functools
from typing import Any, Protocol, runtime_checkable

from PIL import Image

from steervis.registry import Registry

NUCLEUS_TOP_P = 0.9  # BLIP's sampling setting, which VLLaVO reuses


@runtime_checkable
class Captioner(Protocol):
    """Images → per image, the beam caption (if ``beams`` > 0) followed by ``samples`` sampled captions."""

    name: str

    def caption(self, images: list[Image.Image], beams: int, samples: int) -> list[list[str]]: ...


class HFCaptioner:
    """A transformers image-to-text model prompted with a text prefix."""

    def __init__(self, model_id: str, prompt: str = "a picture of", max_new_tokens: int = 30, seed: int = 0,
                 device: str = "auto", dtype: str = "auto"):
        from steervis import zoo

        bundle = zoo.load(model_id, kind="captioner", device=device, dtype=dtype)
        self.model, self.processor, self.name = bundle.model, bundle.processor, model_id
        self.prompt, self.max_new_tokens, self.seed = prompt, max_new_tokens, seed
        self.provenance = {"captioner": model_id, "prompt": prompt}

    def preprocess(self, images: list[Image.Image]) -> Any:
        return self.processor.image_processor(images, return_tensors="pt")["pixel_values"]

    def caption_pixels(self, pixels: Any, beams: int, samples: int) -> list[list[str]]:
        """Captions for preprocessed pixels [n, 3, h, w]; sampling is seeded per call."""
        import torch

        from steervis.device import beside

        n, pixels = pixels.shape[0], beside(pixels, self.model)
        # BLIP's generate drops the [SEP] the tokenizer appends, so the prompt goes in exactly as tokenized.
        prompt = self.processor.tokenizer([self.prompt] * n, return_tensors="pt")
        common = {"pixel_values": pixels, "input_ids": beside(prompt["input_ids"], self.model),
                  "max_new_tokens": self.max_new_tokens}
        out: list[list[str]] = [[] for _ in range(n)]
        with torch.inference_mode():
            if beams > 0:
                seqs = self.model.generate(**common, num_beams=beams, do_sample=False)
                for i, text in enumerate(self._decode(seqs)):
                    out[i].append(text)
            if samples > 0:
                torch.manual_seed(self.seed)
                seqs = self.model.generate(**common, do_sample=True, top_p=NUCLEUS_TOP_P,
                                           num_return_sequences=samples)
                texts = self._decode(seqs)
                for i in range(n):
                    out[i] += texts[i * samples : (i + 1) * samples]
        return out

    def _decode(self, seqs: Any) -> list[str]:
        return [" ".join(t.split()) for t in self.processor.batch_decode(seqs, skip_special_tokens=True)]

    def caption(self, images: list[Image.Image], beams: int = 1, samples: int = 10) -> list[list[str]]:
        return self.caption_pixels(self.preprocess(images), beams, samples)


# Any image-to-text hub id (org/name) is a captioner: the declared hub rule; other unknown names are errors.
CAPTIONERS = Registry("captioner", hub=lambda model_id: functools.partial(HFCaptioner, model_id))
CAPTIONERS.register("tiny-blip", functools.partial(HFCaptioner, "tiny-blip"), help="random tiny BLIP (tests)")
# steervis' own LLaVA, by registry name only (a system never imports another).
CAPTIONERS.register("llava", "steervis.llava.captioner:LlavaCaptioner",
                    help="steervis' LLaVA, latest trained here (`steervis vlm train`), greedy + sampled "
                    "captions")
CAPTIONERS.register("tiny-llava", "steervis.llava.captioner:tiny_llava_captioner",
                    help="the random tiny Llava through the same captioner (tests)")


def build_captioner(name: str, prompt: str = "a picture of", max_new_tokens: int = 30, seed: int = 0,
                    device: str = "auto", dtype: str = "auto") -> Captioner:
    """``tiny-blip`` or any image-to-text hub id (offline, a hub id fails with a clear message), its weights
    on ``device`` in ``dtype``."""
    return CAPTIONERS.build(name, prompt=prompt, max_new_tokens=max_new_tokens, seed=seed, device=device,
                            dtype=dtype)
