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


def run_fingerprint(items: Sequence[Any], settings: TrainSettings, module: torch.nn.Module,
                    objective: Any = None) -> str:
    """Names one training run: its settings, its objective, its first epoch's tokens, targets and images,
    and which parameters learn. A checkpoint left by a run with another fingerprint is never resumed from.

    ``items`` are examples, or what ``objective`` trains on (its ``examples_of`` gives their sequences); the
    answer loss's tag is empty, so its runs keep the names they had before objectives existed.
    """
    import hashlib
    from dataclasses import asdict

    digest = hashlib.sha256(json.dumps(asdict(settings), sort_keys=True, default=str).encode())
    if objective is not None and objective.tag:
        digest.update(objective.tag.encode())
    for name, param in module.named_parameters():
        if param.requires_grad:
            digest.update(f"{name}{tuple(param.shape)}".encode())
    for item in items:
        for e in objective.examples_of(item) if objective is not None else [item]:
            _digest_example(digest, e)
    return digest.hexdigest()[:16]


def _digest_example(digest: Any, e: Example) -> None:
    digest.update(np.asarray(e.ids, dtype=np.int64).tobytes())
    digest.update(np.asarray(e.targets, dtype=np.int64).tobytes())
    if torch.is_tensor(e.image):
        digest.update(e.image.detach().to(torch.float32).cpu().numpy().tobytes())


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
