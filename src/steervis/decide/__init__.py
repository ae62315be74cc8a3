"""Decide: a (LoRA-finetuned) causal LM picks a class from a rendered image description (VLLaVO).

Text only: templates and the ``Decider`` here, scoring, generation and training in :mod:`steervis.lm`.

Names are imported lazily, so ``import steervis.decide`` does not import torch.

>>> from steervis.decide import Decider, DecideConfig  # doctest: +SKIP
>>> dec = Decider(DecideConfig(model="tiny-llama"))  # doctest: +SKIP
>>> dec.fit(["Tags:\\n- fur"], ["cat"], classes=["cat", "car"])  # doctest: +SKIP
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "DecideConfig": "steervis.decide.config",
    "LoraSettings": "steervis.decide.config",
    "TrainSettings": "steervis.decide.config",
    "SelfTrainSettings": "steervis.decide.config",
    "PromptBuilder": "steervis.decide.template",
    "Decider": "steervis.decide.decider",
    "select_pseudo": "steervis.decide.selftrain",
    "self_train": "steervis.decide.selftrain",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
