"""REACT's locked-text gated-image customization, on top of a pretrained matcher.

The base matcher (ConSE offline, a CLIP by hub id) stays frozen, its text tower locked. A new block reads the
image backbone's pooled features and adds to the base image embedding through a gate that starts closed:

    image embedding = normalise(base(x) + tanh(a) · MLP(f(x))),  a = 0 at initialisation

so the customized matcher equals the base matcher before training (REACT's gated blocks, Flamingo-style), and
training moves it only as far as the retrieved pairs ask. The loss is CLIP's symmetric contrastive loss
between the image embeddings and the locked text embeddings of the pairs; pairs that share a text are all
positives for it (emoji skin-tone variants, Open Clip Art items with one title).

Learning an alignment from scratch on a pool this small was measured worse than ConSE (18.8–24.6 % vs 28.1 %
zero-shot on minidomains), which is why the base stays and only a residual is learnt.

>>> import numpy as np
>>> from steervis.react.train_head import ReactSettings, customize
>>> rng = np.random.default_rng(0)
>>> base, pooled = rng.normal(size=(8, 4)), rng.normal(size=(8, 6))
>>> head, losses = customize(base, pooled, base, np.arange(8), ReactSettings(epochs=2, hidden=8),
...                          progress=False)
>>> len(losses), head.gate.item() != 0
(2, True)
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from steervis.device import names_batch_size, place
from steervis.errors import SteervisError
from steervis.react.config import ReactSettings
from steervis.react.gated_head import GatedResidualHead

log = logging.getLogger(__name__)


def _positives(text_ids: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """Row i's target distribution over the batch's columns: uniform over the columns with i's text (on
    ``like``'s device, in its precision)."""
    same = torch.as_tensor(text_ids[:, None] == text_ids[None, :], dtype=like.dtype, device=like.device)
    return same / same.sum(1, keepdim=True)


def contrastive_loss(images: torch.Tensor, texts: torch.Tensor, text_ids: np.ndarray,
                     temperature: float) -> torch.Tensor:
    """Symmetric image↔text cross-entropy (CLIP's loss) with every same-text pair a positive."""
    logits = images @ texts.T / temperature
    target = _positives(text_ids, logits)
    return 0.5 * (-(target * logits.log_softmax(1)).sum(1).mean()
                  - (target * logits.log_softmax(0).T).sum(1).mean())


def train_epochs(n: int, batch_loss: Any, settings: ReactSettings, optim: torch.optim.Optimizer,
                 losses: list[float], save: Any, desc: str, progress: bool = True) -> list[float]:
    """The customization loop every REACT base shares: epochs ``len(losses)`` .. ``settings.epochs`` over
    ``n`` pairs in seeded random batches (``batch_loss(indices)`` → loss), the mean loss appended and
    ``save()`` called after each epoch, so a run resumed from its checkpoint sees the batches an uninterrupted
    one does."""
    from tqdm.auto import tqdm

    for epoch in tqdm(range(len(losses), settings.epochs), desc=desc, unit="epoch", disable=not progress):
        # per epoch, so a resumed run sees the same batches
        rng = np.random.default_rng([settings.seed, epoch])
        order, total = rng.permutation(n), []
        for start in range(0, n, settings.batch_size):
            idx = order[start : start + settings.batch_size]
            if len(idx) < 2:  # a contrastive batch needs a negative
                continue
            loss = batch_loss(idx)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            total.append(loss.item())
        losses.append(float(np.mean(total)))
        save()
    return losses


@names_batch_size("REACT's settings.batch_size")
def customize(base: np.ndarray, pooled: np.ndarray, text_emb: np.ndarray, text_ids: np.ndarray,
              settings: ReactSettings, progress: bool = True,
              checkpoint: str | Path | None = None) -> tuple[GatedResidualHead, list[float]]:
    """Train a gated head on pairs (image i ↔ text i); returns the head and the mean loss per epoch.

    With ``checkpoint`` (a folder), the head, optimizer and losses are saved after every epoch and a rerun
    after a kill resumes from the last finished epoch, ending where an uninterrupted run would.
    """
    if len(base) < 2:
        raise SteervisError(f"REACT needs at least two image–text pairs to contrast; got {len(base)}.")
    torch.manual_seed(settings.seed)
    head = place(GatedResidualHead(pooled.shape[1], base.shape[1], settings.hidden), settings.device,
                 settings.dtype)
    optim = torch.optim.AdamW(head.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    text_ids = np.asarray(text_ids)
    saver = EpochCheckpoint(checkpoint, head, optim,
                            run_fingerprint(settings, base, pooled, text_emb, text_ids))
    losses = saver.resume()
    weight = next(head.parameters())
    b, f, t = (torch.as_tensor(x, dtype=weight.dtype, device=weight.device) for x in (base, pooled, text_emb))

    def batch_loss(idx: np.ndarray) -> torch.Tensor:
        return contrastive_loss(head(b[idx], f[idx]), t[idx], text_ids[idx], settings.temperature)

    train_epochs(len(b), batch_loss, settings, optim, losses, lambda: saver.save(losses), "react", progress)
    return head.eval(), losses


class EpochCheckpoint:
    """Resumable state after each epoch, on the LM core's trainer checkpoint (safetensors + JSON, never a
    pickle).

    ``folder`` is the run's checkpoint folder (None: no checkpoint); ``fingerprint`` says which run it is, so
    a checkpoint of other settings or pairs is set aside, never resumed from. Each epoch is one "step".
    """

    def __init__(self, folder: str | Path | None, module: torch.nn.Module, optim: Any, fingerprint: str):
        from steervis.lm.checkpoint import CHECKPOINT_FILE

        self.path = Path(folder) / CHECKPOINT_FILE if folder is not None else None
        self.module, self.optim, self.fingerprint = module, optim, fingerprint
        self.sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda _: 1.0)  # constant: the record wants one
        self.progress = SimpleNamespace(losses=[], steps=0, examples_seen=0, tokens=0, shard=[],
                                        resumed_from=0)

    def resume(self) -> list[float]:
        """The losses of the epochs the checkpoint holds (its state loaded into the module and optimiser),
        else []."""
        from steervis.lm.checkpoint import read_checkpoint, resume, warn_legacy

        if self.path is None:
            return []
        warn_legacy(self.path.parent.with_name(self.path.parent.name + ".pt"), resuming=self.path.exists())
        shapes = {n: p.shape for n, p in self.module.named_parameters() if p.requires_grad}
        state = read_checkpoint(self.path, self.fingerprint, shapes)
        if state is None:
            return []
        resume(state, self.module, self.optim, self.sched, np.random.default_rng(), self.progress)
        log.info("resuming from %s after epoch %d", self.path, len(self.progress.losses))
        return list(self.progress.losses)

    def save(self, losses: list[float]) -> None:
        """Trainable state after an epoch: a kill at any moment leaves the previous epoch's state whole."""
        from steervis.lm.checkpoint import save_checkpoint

        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.progress.losses, self.progress.steps = list(losses), len(losses)
        save_checkpoint(self.path, self.module, self.optim, self.sched, self.progress,
                        np.random.default_rng().bit_generator.state, len(losses), self.fingerprint)


def run_fingerprint(settings: ReactSettings, *arrays: Any) -> str:
    """Which customization run this is: its settings and the bytes of its training pairs."""
    digest = hashlib.sha256(json.dumps(settings_dict(settings), sort_keys=True).encode())
    for array in arrays:
        digest.update(np.ascontiguousarray(np.asarray(array)).tobytes())
    return digest.hexdigest()[:16]


def remove_checkpoint(folder: str | Path | None) -> None:
    """The run's model is saved: its checkpoint folder is spent."""
    from steervis.lm.checkpoint import CHECKPOINT_FILE
    from steervis.lm.checkpoint import remove_checkpoint as remove_state

    if folder is not None and Path(folder).is_dir():
        remove_state(Path(folder) / CHECKPOINT_FILE)
        shutil.rmtree(folder, ignore_errors=True)


@torch.inference_mode()
def apply_head(head: GatedResidualHead | None, base: np.ndarray, pooled: np.ndarray) -> np.ndarray:
    """Customized unit-norm image embeddings (``head=None``: the base ones)."""
    if head is None:
        return base / np.clip(np.linalg.norm(base, axis=1, keepdims=True), 1e-12, None)
    weight = next(head.parameters())
    as_input = lambda x: torch.as_tensor(x, dtype=weight.dtype, device=weight.device)  # noqa: E731
    return head(as_input(base), as_input(pooled)).float().cpu().numpy()


def text_to_image_accuracy(images: np.ndarray, texts: np.ndarray, truth: np.ndarray) -> float:
    """Held-out check: the fraction of images whose nearest text (among the candidates) is their own."""
    return float(((images @ texts.T).argmax(1) == truth).mean())


def settings_dict(settings: ReactSettings) -> dict[str, Any]:
    """The settings as recorded and keyed; ``device`` is left out: where a model trains never changes it."""
    return {k: v for k, v in asdict(settings).items() if k != "device"}
