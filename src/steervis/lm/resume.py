"""Resuming a training run from its own checkpoint, never from another run's.

:func:`run_fingerprint` names a run by its settings, its first epoch's data and which parameters learn;
:func:`resume_run` reads the checkpoint (:mod:`steervis.lm.checkpoint`) only when it carries that
fingerprint, and restores the trainable weights, optimiser, schedule, RNG and counters from it, so the resumed
run ends with the weights an uninterrupted one ends with.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from steervis.lm.batch import Example
from steervis.lm.checkpoint import LEGACY_CHECKPOINT, read_checkpoint, resume, warn_legacy
from steervis.lm.config import TrainSettings


def run_fingerprint(examples: Sequence[Example], settings: TrainSettings, module: torch.nn.Module) -> str:
    """Names one training run: its settings, its first epoch's tokens, targets and images, and which
    parameters learn. A checkpoint left by a run with another fingerprint is never resumed from."""
    import hashlib
    from dataclasses import asdict

    digest = hashlib.sha256(json.dumps(asdict(settings), sort_keys=True, default=str).encode())
    for name, param in module.named_parameters():
        if param.requires_grad:
            digest.update(f"{name}{tuple(param.shape)}".encode())
    for e in examples:
        digest.update(np.asarray(e.ids, dtype=np.int64).tobytes())
        digest.update(np.asarray(e.targets, dtype=np.int64).tobytes())
        if torch.is_tensor(e.image):
            digest.update(e.image.detach().to(torch.float32).cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


def resume_run(state_path: Path | None, fingerprint: str | None, module: torch.nn.Module, optim: Any,
               sched: Any, rng: np.random.Generator, result: Any) -> int | None:
    """Restore the checkpoint at ``state_path`` into ``module``, ``optim``, ``sched``, ``rng`` and ``result``
    when it carries ``fingerprint``; returns the epoch to start at, or ``None`` when nothing was resumed."""
    if state_path is None:
        return None
    state = read_checkpoint(state_path, fingerprint, {n: p.shape for n, p in module.named_parameters()
                                                      if p.requires_grad})
    warn_legacy(state_path.with_name(LEGACY_CHECKPOINT), resuming=state is not None)
    if state is None:
        return None
    return resume(state, module, optim, sched, rng, result)
