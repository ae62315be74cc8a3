"""A VLM's parts, assembled: steervis' own LLaVA (tower, frozen LM, seeded projector) or a hub Llava's.

:func:`own_parts` builds steervis' LLaVA from a :class:`~steervis.llava.config.VLMConfig`: the vision tower
(loaded lazily), the causal LM with every weight frozen, and a fresh projector seeded for reproducibility.
:func:`hub_parts` reads a transformers ``LlavaForConditionalGeneration``, whose tower, projector and LM all
come from the checkpoint. :class:`~steervis.llava.model.VLM` is built from either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import torch

from steervis.errors import SteervisError
from steervis.llava.config import VLMConfig
from steervis.llava.splice import LlavaSplicer, ProjectorSplicer, llava_image_tokens
from steervis.lm.model import LanguageModel


class VLMParts(NamedTuple):
    """What a :class:`~steervis.llava.model.VLM` is constructed from (its ``__init__`` arguments)."""

    config: VLMConfig
    lm: LanguageModel
    image_tokens: int
    tower: Any = None
    image_processor: Any = None


class LazyTower:
    """Loads the tower on first use: training from cached features never needs it."""

    def __init__(self, spec: Any, device: str = "auto", dtype: str = "auto"):
        self.spec, self._tower, self.placement = spec, None, (device, dtype)

    def encode(self, images: Sequence[Any]) -> torch.Tensor:
        if self._tower is None:
            from steervis.llava.tower import build_tower

            self._tower = build_tower(self.spec, *self.placement)
        return self._tower.encode(images)


def own_parts(config: VLMConfig, seed: int = 0, tower: Any = None, device: str = "auto",
              dtype: str = "auto") -> VLMParts:
    """steervis' own LLaVA: ``config``'s tower and frozen LM, and a fresh projector seeded with ``seed``, all
    on ``device`` in ``dtype``."""
    from steervis import zoo
    from steervis.device import place
    from steervis.llava.projector import build_projector
    from steervis.llava.tower import TowerSpec

    spec = TowerSpec(config.tower, config.layer, config.grid)
    config = replace(config, layer=spec.layer)  # the card records the layer the default resolved to
    causal = zoo.load(config.lm, kind="causal-lm", device=device, dtype=dtype)
    for param in causal.model.parameters():
        param.requires_grad_(False)  # the LM is frozen; stage 2 trains LoRA on top
    tokenizer = causal.tokenizer
    image_id = tokenizer.convert_tokens_to_ids(config.image_token)
    if image_id is None or image_id == tokenizer.unk_token_id and config.image_token != tokenizer.unk_token:
        raise SteervisError(f"The image token {config.image_token!r} is not a single token of {config.lm}.")
    torch.manual_seed(seed)  # the projector's initial weights
    width = causal.model.get_input_embeddings().embedding_dim
    projector = place(build_projector(config.projector, spec.dim, width), device, dtype)
    splicer = ProjectorSplicer(projector, image_id)
    lm = LanguageModel(causal, splicer=splicer, add_special_tokens=False, add_eos=True)
    if image_id == lm.pad_id:
        raise SteervisError(f"The image token {config.image_token!r} is the padding token; choose another.")
    tower = tower if tower is not None else LazyTower(spec, device, dtype)
    return VLMParts(config, lm, spec.tokens, tower=tower)


def hub_parts(name: str, config: VLMConfig | None = None, device: str = "auto",
              dtype: str = "auto") -> VLMParts:
    """A transformers ``LlavaForConditionalGeneration`` (``llava-hf/llava-1.5-7b-hf``, or ``tiny-llava``) on
    ``device`` in ``dtype``."""
    from steervis import zoo
    from steervis.zoo.bundles import CausalLM
    from steervis.zoo.embedded import smollm2_tokenizer

    bundle = zoo.load(name, kind="vlm", device=device, dtype=dtype)
    tokenizer = getattr(bundle.processor, "tokenizer", None) or smollm2_tokenizer()  # tiny-llava: SmolLM2's
    chatml = "<|im_start|>" in tokenizer.get_vocab()
    config = config or VLMConfig(template="chatml" if chatml else "vicuna")
    config.hub, config.lm, config.caption_template = name, name, config.template
    config.image_token = tokenizer.convert_ids_to_tokens(bundle.model.config.image_token_id)
    lm = LanguageModel(CausalLM(bundle.model, tokenizer, name), splicer=LlavaSplicer(bundle.model),
                       add_special_tokens=False, add_eos=True)
    processor = getattr(bundle.processor, "image_processor", bundle.processor)
    return VLMParts(config, lm, llava_image_tokens(bundle.model.config), image_processor=processor)
