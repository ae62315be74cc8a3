"""The modality-agnostic LM core: scoring, generation and LoRA training on token (+ image) batches, with the
answer loss or DPO on preference pairs.

:mod:`steervis.vllavo.decide` (descriptions → class) and :mod:`steervis.llava` (image + question → answer)
both build :class:`Prompt` / :class:`Example` batches and call the functions here; both write their chat
prompts with :mod:`steervis.lm.chat`. Names load lazily (no torch on import).

>>> from steervis import zoo
>>> from steervis.lm import LanguageModel, score
>>> lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
>>> score(lm, [lm.prompt("Q: which animal barks?\\nA:")], [" cat", " dog"]).shape
(1, 2)
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "Prompt": "steervis.lm.batch",
    "Example": "steervis.lm.batch",
    "IGNORE": "steervis.lm.batch",
    "LoraSettings": "steervis.lm.config",
    "TrainSettings": "steervis.lm.config",
    "REDUCTIONS": "steervis.lm.config",
    "LanguageModel": "steervis.lm.model",
    "Splicer": "steervis.lm.model",
    "score": "steervis.lm.scoring",
    "loglik": "steervis.lm.scoring",
    "estimate_prior": "steervis.lm.scoring",
    "reduce_scores": "steervis.lm.scoring",
    "generate": "steervis.lm.generate",
    "TextStream": "steervis.lm.stream",
    "ChatFormat": "steervis.lm.chat",
    "CHAT_FORMATS": "steervis.lm.chat",
    "CHAT_TEMPLATE": "steervis.lm.chat",
    "chat_format": "steervis.lm.chat",
    "template_or": "steervis.lm.chat",
    "chat_segments": "steervis.lm.chat",
    "render_chat": "steervis.lm.chat",
    "encode_chat": "steervis.lm.chat",
    "snap_to_class": "steervis.lm.answers",
    "train": "steervis.lm.train",
    "TrainResult": "steervis.lm.train",
    "Objective": "steervis.lm.objectives",
    "AnswerLoss": "steervis.lm.objectives",
    "DPOSettings": "steervis.lm.config",
    "DPOLoss": "steervis.lm.preference",
    "PreferencePair": "steervis.lm.preference",
    "dpo_loss": "steervis.lm.preference",
    "add_lora": "steervis.lm.adapters",
    "load_lora": "steervis.lm.adapters",
    "write_adapter": "steervis.lm.adapters",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
