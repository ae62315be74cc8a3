"""Typed settings of the LM core, importable without torch (configs and presets read them).

>>> TrainSettings(epochs=1).batch_size, LoraSettings().target_modules
(8, ['q_proj', 'v_proj'])
"""

from __future__ import annotations

from dataclasses import dataclass, field

REDUCTIONS = ("mean", "sum", "calibrated")


@dataclass
class LoraSettings:
    """LoRA adapter shape (peft ``LoraConfig``); defaults follow VLLaVO (r=8, alpha=16, dropout 0.05, q/v)."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])


@dataclass
class TrainSettings:
    """The finetuning loop."""

    epochs: int = 3
    batch_size: int = 8  # global: split between processes under `accelerate launch`
    max_steps: int | None = None  # stop early after this many optimiser steps (the quick preset's budget)
    lr: float = 1e-3
    warmup: float = 0.1  # fraction of steps with a linear warm-up, as in VLLaVO
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    seed: int = 0
    gradient_checkpointing: bool = False  # recompute activations in backward: less memory, more step time
    max_examples: int | None = None  # subsample the training set (class-stratified) to bound the wall time
    # optimiser steps between resumable checkpoints (when a checkpoint dir is given)
    checkpoint_every: int = 50
