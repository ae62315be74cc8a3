"""steervis' LLaVA: vision tower → projector → causal LM, two-stage training, batched inference, hub Llava.

>>> from steervis.vlm import VLM, VLMConfig
>>> vlm = VLM.create(VLMConfig(lm="tiny-llama"))
>>> vlm.image_tokens
16
"""

from __future__ import annotations

from steervis.lazy import lazy_exports
from steervis.vlm.tower import TOWERS

TOWERS.register("efficientnet-lite0", "steervis.vlm.tower:EfficientNetTower",
                help="embedded efficientnet-lite0: its last MBConv block (blocks, default) or conv_head (head)")
TOWERS.register("clip", "steervis.vlm.clip_tower:CLIPTower",
                help="clip:<hub id or tiny-clip>: a transformers CLIP vision tower, penultimate layer (LLaVA)")
TOWERS.register("timm", "steervis.vlm.timm_tower:TimmTower",
                help="timm:<model name>: the last feature map of a timm model (timm needs torchvision)")

_EXPORTS = {
    "VLM": "steervis.vlm.model",
    "VLMConfig": "steervis.vlm.model",
    "build_projector": "steervis.vlm.projector",
    "PROJECTORS": "steervis.vlm.projector",
    "EfficientNetTower": "steervis.vlm.tower",
    "FeatureCache": "steervis.vlm.tower",
    "TowerSpec": "steervis.vlm.tower",
    "build_tower": "steervis.vlm.tower",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
