"""Typed settings of the LM core, importable without torch (configs and presets read them).

>>> TrainSettings(epochs=1).batch_size, LoraSettings().target_modules
(8, ['q_proj', 'v_proj'])
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

REDUCTIONS = ("mean", "sum", "calibrated")


def check_ranges(config: Any, at_least: dict[str, float], below: dict[str, float] | None = None,
                 where: str = "") -> None:
    """One sentence for the first field of ``config`` under its minimum (``at_least``, ``None`` allowed) or
    at or over its ceiling (``below``): an impossible recipe fails before any model loads."""
    from steervis.errors import SteervisError

    values = {f.name: getattr(config, f.name) for f in fields(config)}
    for name, low in at_least.items():
        if values[name] is not None and values[name] < low:
            raise SteervisError(f"{where}{name} is {values[name]}: it must be at least {low:g}.")
    for name, high in (below or {}).items():
        if values[name] >= high:
            raise SteervisError(f"{where}{name} is {values[name]}: it must be below {high:g}.")


@dataclass
class LoraSettings:
    """LoRA adapter shape (peft ``LoraConfig``); defaults follow VLLaVO (r=8, alpha=16, dropout 0.05, q/v)."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])

    def __post_init__(self) -> None:
        check_ranges(self, {"r": 1, "alpha": 1e-9, "dropout": 0}, {"dropout": 1}, where="lora.")


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

    def __post_init__(self) -> None:
        check_ranges(self, {"epochs": 1, "batch_size": 1, "max_steps": 1, "lr": 1e-12, "warmup": 0,
                            "weight_decay": 0, "grad_clip": 1e-12, "max_examples": 1, "checkpoint_every": 1},
                     {"warmup": 1}, where="train.")


@dataclass
class DPOSettings:
    """Direct preference optimisation (:mod:`steervis.lm.preference`).

    Attributes:
        beta: scale of the implicit rewards: how far the policy may move from its reference.
        alpha: weight of the chosen answers' per-token NLL added to the DPO loss (STIC's regulariser).
    """

    beta: float = 0.1  # DPO's and STIC's value
    alpha: float = 1.0  # STIC's recipe weighs the chosen answers' likelihood as much as the preference

    def __post_init__(self) -> None:
        check_ranges(self, {"beta": 1e-12, "alpha": 0}, where="dpo.")
