"""Hub-id loaders, one per model kind, through the normal transformers ``from_pretrained``.

Each reads its weights with ``placement`` (:func:`steervis.zoo.placement.hub_options`: the precision as a
``torch.dtype``, SDPA attention, and ``device_map="auto"`` for a model larger than its card), which
:func:`steervis.zoo.load` resolves from the caller's ``device`` and ``dtype`` settings.

>>> from steervis.zoo import load
>>> clip = load("openai/clip-vit-large-patch14", kind="clip")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from steervis.errors import SteervisError
from steervis.zoo.bundles import CausalLM, TextEncoder, VisionTextModel
from steervis.zoo.core import HUB_LOADERS
from steervis.zoo.placement import load_model

Placement = dict[str, Any] | None


@HUB_LOADERS.register("causal-lm")
def load_causal_lm(model_id: str, placement: Placement = None, **kwargs: Any) -> CausalLM:
    """Any causal LM (Llama, Qwen, SmolLM, ...) with its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_id, **kwargs)
    model = load_model(AutoModelForCausalLM, model_id, placement, **kwargs)
    return CausalLM(model=model.eval(), tokenizer=tokenizer, name=model_id)


@HUB_LOADERS.register("text-encoder")
def load_text_encoder(model_id: str, placement: Placement = None, **kwargs: Any) -> TextEncoder:
    """A sentence-embedding encoder (mean pooling), e.g. sentence-transformers/all-mpnet-base-v2."""
    from transformers import AutoModel, AutoTokenizer

    return TextEncoder(
        model=load_model(AutoModel, model_id, placement, **kwargs).eval(),
        tokenizer=AutoTokenizer.from_pretrained(model_id, **kwargs),
        name=model_id,
    )


@HUB_LOADERS.register("clip")
def load_clip(model_id: str, placement: Placement = None, **kwargs: Any) -> VisionTextModel:
    """
    A CLIP-style dual encoder (openai/clip-vit-large-patch14, laion/CLIP-ViT-H-14-laion2B-s32B-b79K, SigLIP).
    """
    from transformers import AutoModel, AutoProcessor

    return VisionTextModel(
        model=load_model(AutoModel, model_id, placement, **kwargs).eval(),
        processor=AutoProcessor.from_pretrained(model_id, **kwargs),
        name=model_id,
    )


@HUB_LOADERS.register("captioner")
def load_captioner(model_id: str, placement: Placement = None, **kwargs: Any) -> VisionTextModel:
    """An image-to-text model (Salesforce/blip-image-captioning-large, microsoft/git-large-coco)."""
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(model_id, **kwargs)
    try:
        model = load_model(AutoModelForImageTextToText, model_id, placement, **kwargs)
    except ValueError:  # GIT-style captioners register as causal LMs with a vision tower
        model = load_model(AutoModelForCausalLM, model_id, placement, **kwargs)
    return VisionTextModel(model=model.eval(), processor=processor, name=model_id)


@HUB_LOADERS.register("vlm")
def load_vlm(model_id: str, placement: Placement = None, **kwargs: Any) -> VisionTextModel:
    """A LLaVA-style vision-language chat model (llava-hf/llava-1.5-7b-hf, ...)."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    return VisionTextModel(
        model=load_model(AutoModelForImageTextToText, model_id, placement, **kwargs).eval(),
        processor=AutoProcessor.from_pretrained(model_id, **kwargs),
        name=model_id,
    )


@HUB_LOADERS.register("image-classifier")
def load_image_classifier(model_id: str, placement: Placement = None, **kwargs: Any) -> Any:
    raise SteervisError(
        f"{model_id!r}: image classifiers load by embedded name only (efficientnet-lite0); "
        "for hub image features use a CLIP id with kind 'clip'."
    )
