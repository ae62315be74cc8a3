"""steervis' LLaVA: vision tower → projector → causal LM, two-stage training, batched inference, hub Llava.

>>> from steervis.llava import VLM, VLMConfig
>>> vlm = VLM.create(VLMConfig(lm="tiny-llama"))
>>> vlm.image_tokens
16
"""

from __future__ import annotations

from steervis.lazy import lazy_exports
from steervis.llava.tower import TOWERS

TOWERS.register("efficientnet-lite0", "steervis.llava.tower:EfficientNetTower",
                help="embedded efficientnet-lite0: its last MBConv block (blocks, default) or conv_head "
                "(head)")
TOWERS.register("clip", "steervis.llava.clip_tower:CLIPTower",
                help="clip:<hub id or tiny-clip>: a transformers CLIP vision tower, penultimate layer "
                "(LLaVA)")
TOWERS.register("timm", "steervis.llava.timm_tower:TimmTower",
                help="timm:<model name>: the last feature map of a timm model (timm needs torchvision)")

_EXPORTS = {
    "VLM": "steervis.llava.model",
    "VLMConfig": "steervis.llava.model",
    "open_vlm": "steervis.llava.vlms",
    "VLMS": "steervis.llava.vlms",
    "build_projector": "steervis.llava.projector",
    "PROJECTORS": "steervis.llava.projector",
    "EfficientNetTower": "steervis.llava.tower",
    "FeatureCache": "steervis.llava.tower",
    "TowerSpec": "steervis.llava.tower",
    "build_tower": "steervis.llava.tower",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
