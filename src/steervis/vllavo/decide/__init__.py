"""Decide: a (LoRA-finetuned) causal LM picks a class from a rendered image description (VLLaVO).

Text only: templates and the ``Decider`` here, scoring, generation and training in :mod:`steervis.lm`.

Names are imported lazily, so ``import steervis.vllavo.decide`` does not import torch.

>>> from steervis.vllavo.decide import Decider, DecideConfig  # doctest: +SKIP
>>> dec = Decider(DecideConfig(model="tiny-llama"))  # doctest: +SKIP
>>> dec.fit(["Tags:\\n- fur"], ["cat"], classes=["cat", "car"])  # doctest: +SKIP
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "DecideConfig": "steervis.vllavo.decide.config",
    "LoraSettings": "steervis.vllavo.decide.config",
    "TrainSettings": "steervis.vllavo.decide.config",
    "SelfTrainSettings": "steervis.vllavo.decide.config",
    "PromptBuilder": "steervis.vllavo.decide.template",
    "Decider": "steervis.vllavo.decide.decider",
    "select_pseudo": "steervis.vllavo.decide.selftrain",
    "self_train": "steervis.vllavo.decide.selftrain",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
