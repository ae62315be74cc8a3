"""Typed configs for describe-decide: which LM, which template, how to finetune, how to infer.

Defaults follow VLLaVO's released code (LoRA r=8, alpha=16, dropout 0.05 on q_proj/v_proj, lr 1e-3, 10 %
warmup); presets ``decide-quick`` / ``decide-full`` in ``steervis/presets`` tune the budget.

>>> from steervis.config import load_config
>>> from steervis.vllavo.decide.config import DecideConfig
>>> cfg = load_config(DecideConfig, preset="decide-quick", overrides=["inference=generate"])
>>> cfg.lora.r, cfg.inference
(8, 'generate')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from steervis.device import check_placement
from steervis.errors import SteervisError
from steervis.lm.config import REDUCTIONS, LoraSettings, TrainSettings

INFERENCE_MODES = ("score", "generate")
TEMPLATES = ("vllavo", "chat")


@dataclass
class SelfTrainSettings:
    """UDA pseudo-label self-training on the unlabelled target domain."""

    rounds: int = 3
    selection: str = "fraction"  # "fraction": top fraction per predicted class; "threshold": confidence cut
    fraction: float = 0.5
    threshold: float = 0.9
    class_balanced: bool = True  # quotas per predicted class so one easy class cannot fill the pseudo set
    # stop early once fewer than this share of target pseudo-labels change in a round
    min_change: float = 0.02
    # None: every round fits a fresh adapter with the full budget (VLLaVO); N: the current adapter trains on
    # for N more steps on source + pseudo-labels (five rounds of full fits do not fit two CPU cores).
    refit_steps: int | None = None


@dataclass
class DecideConfig:
    """Everything that turns rendered descriptions into a class decision.

    Attributes:
        model: Zoo name or hub id of the causal LM.
        template: ``vllavo`` (plain instruction text) or ``chat`` (the tokenizer's chat template).
        components: Which description parts the prompt shows (``tags``, ``attributes``, ``captions``).
        inference: ``score`` (exact class scoring over the KV cache) or ``generate`` (beam search, snapped).
        reduction: How label token log-probs combine in ``score`` mode: ``mean``, ``sum`` or ``calibrated``
            (mean divided by the class prior estimated on the training descriptions at fit time).
        max_length: Token budget for prompt + answer; longer descriptions are truncated (warned once).
        score_batch: Prompts per forward pass when scoring.
        beams: Beam count in ``generate`` mode.
        max_new_tokens: Generation budget in ``generate`` mode.
        shuffle_options: List the classes in a seeded random order per example (learn names, not positions).
        device: Where the LM runs (``auto``, ``cpu``, ``cuda``, ``cuda:N``).
        dtype: Its weights' precision (``auto``, ``float32``, ``bfloat16``, ``float16``).
    """

    model: str = "smollm2-135m-instruct"
    template: str = "vllavo"
    components: list[str] = field(default_factory=lambda: ["tags", "attributes", "captions"])
    inference: str = "score"
    reduction: str = "mean"  # VLMClassifier's (Zhang et al.) default: long names not penalised per token
    max_length: int = 512
    score_batch: int = 8
    beams: int = 4
    max_new_tokens: int = 50
    shuffle_options: bool = True
    lora: LoraSettings = field(default_factory=LoraSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    selftrain: SelfTrainSettings = field(default_factory=SelfTrainSettings)
    device: str = "auto"  # auto: a CUDA card when there is one, else the CPU
    dtype: str = "auto"  # auto: bfloat16 on a card that supports it, float32 on the CPU

    def __post_init__(self) -> None:
        check_placement(self)
        for key, value, allowed in (("inference", self.inference, INFERENCE_MODES),
                                    ("reduction", self.reduction, REDUCTIONS),
                                    ("template", self.template, TEMPLATES),
                                    ("selftrain.selection", self.selftrain.selection,
                                     ("fraction", "threshold"))):
            if value not in allowed:
                raise SteervisError(f"{key}={value!r} is not one of: {', '.join(allowed)}.")
        if self.max_length < 64:
            raise SteervisError(f"max_length={self.max_length} is too small: prompts need at least 64 "
                                "tokens.")


@dataclass
class PredictConfig:
    """``steervis predict``: which adapter reads which images, where the predictions go.

    Attributes:
        input: an image, a folder of images, or a manifest (.parquet/.csv with a 'path' column).
        adapter: folder written by `steervis fit`.
        out: predictions file: .csv or .json.
        decide: changes to the adapter's saved decide settings, e.g. {inference: generate}.
    """

    input: str | None = None
    adapter: str | None = None
    out: str | None = None
    decide: dict[str, Any] = field(default_factory=dict)
