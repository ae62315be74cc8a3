"""steervis' LLaVA: vision tower → projector → causal LM, two-stage training, batched inference, hub Llava.

>>> from steervis.vlm import VLM, VLMConfig
>>> vlm = VLM.create(VLMConfig(lm="tiny-llama"))
>>> vlm.image_tokens
16
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "VLM": "steervis.vlm.model",
    "VLMConfig": "steervis.vlm.model",
    "build_projector": "steervis.vlm.projector",
    "PROJECTORS": "steervis.vlm.projector",
    "EfficientNetTower": "steervis.vlm.tower",
    "FeatureCache": "steervis.vlm.tower",
    "TowerSpec": "steervis.vlm.tower",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
