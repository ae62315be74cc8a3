"""Decide: a (LoRA-finetuned) causal LM picks a class from a rendered image description (VLLaVO).

Names are imported lazily, so ``import steervis.decide`` does not import torch.

>>> from steervis.decide import Decider, DecideConfig  # doctest: +SKIP
>>> dec = Decider(DecideConfig(model="tiny-llama"))  # doctest: +SKIP
>>> dec.fit(["Tags:\\n- fur"], ["cat"], classes=["cat", "car"])  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DecideConfig": "steervis.decide.config",
    "LoraSettings": "steervis.decide.config",
    "TrainSettings": "steervis.decide.config",
    "SelfTrainSettings": "steervis.decide.config",
    "PromptBuilder": "steervis.decide.template",
    "LanguageModel": "steervis.decide.lm",
    "snap_to_class": "steervis.decide.lm",
    "Decider": "steervis.decide.decider",
    "finetune": "steervis.decide.train",
    "select_pseudo": "steervis.decide.selftrain",
    "self_train": "steervis.decide.selftrain",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'steervis.decide' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
