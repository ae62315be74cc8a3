"""The LM core's trainer: LoRA (and any trainable splicer) on answer tokens only, on Hugging Face accelerate.

One loop for VLLaVO's decider (descriptions → class name) and LLaVA (image + question → answer). Batches hold
examples of similar token length (sorted, then cut into batches whose order is shuffled), so little compute
goes to padding; the vocabulary logits are computed only from the first answer position on. Under ``accelerate
launch`` every global batch is split between the processes, and each process's loss is weighted by its
share of the batch's answer tokens, so DDP on N processes follows the single-process loss curve exactly
(up to float summation order). The learning-rate schedule is transformers' linear warm-up and decay. The loss
is an objective's (:mod:`steervis.lm.objectives`): answer-token cross-entropy unless the caller gives
another, such as DPO on preference pairs (:mod:`steervis.lm.preference`).

A run with ``checkpoint=DIR`` saves the trainable weights, optimiser, schedule and RNG state every
``checkpoint_every`` steps (atomically); started again with the same arguments it resumes where it stopped
and ends with the weights an uninterrupted run ends with. The state is tensors in safetensors and the rest in
JSON: nothing read back is ever unpickled, so a file planted in DIR cannot run code.

>>> from steervis import zoo
>>> from steervis.lm.adapters import add_lora
>>> from steervis.lm.config import LoraSettings, TrainSettings
>>> from steervis.lm.batch import Example
>>> from steervis.lm.model import LanguageModel
>>> lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
>>> lm.model = add_lora(lm.model, LoraSettings(), seed=0)
>>> data = [Example.from_prompt_answer([1, 2, 3], [4, 5]), Example.from_prompt_answer([6, 7], [8])]
>>> result = train(lm, lambda epoch: data, TrainSettings(epochs=2, batch_size=2), progress=False)
>>> len(result.losses)
2
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from steervis.errors import SteervisError
from steervis.lm.checkpoint import CHECKPOINT_FILE, remove_checkpoint, save_checkpoint
from steervis.lm.checkpoint import LEGACY_CHECKPOINT as LEGACY_CHECKPOINT  # re-exported
from steervis.lm.config import TrainSettings
from steervis.lm.objectives import AnswerLoss, Objective
from steervis.lm.resume import resume_run, run_fingerprint

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a finetuning run did: one loss per optimiser step (over the global batch), and the cost."""

    losses: list[float] = field(default_factory=list)
    steps: int = 0
    examples_seen: int = 0
    seconds: float = 0.0
    tokens: int = 0
    padding_fraction: float = 0.0
    processes: int = 1
    shard: list[int] = field(default_factory=list)  # example indices this process trained on, in order
    resumed_from: int = 0
    metrics: dict[str, list[float]] = field(default_factory=dict)  # per step: what the objective reports

    def summary(self) -> dict[str, Any]:
        tenth = max(1, len(self.losses) // 10)
        head, tail = self.losses[:tenth], self.losses[-tenth:]
        last = {f"{name}_last": float(np.mean(values[-tenth:])) for name, values in self.metrics.items()}
        return {"steps": self.steps, "examples_seen": self.examples_seen, "seconds": round(self.seconds, 1),
                "tokens": self.tokens, "padding_fraction": round(self.padding_fraction, 4),
                "processes": self.processes,
                "loss_first": float(np.mean(head)) if self.losses else None,
                "loss_last": float(np.mean(tail)) if self.losses else None, **last}


def length_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """Indices grouped into batches of near-equal length, batch order shuffled.

    Ties are broken randomly so the same lengths do not always share a batch across epochs.
    """
    order = np.lexsort((rng.random(len(lengths)), np.asarray(lengths)))
    batches = [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def shard(batch: list[int], rank: int, world: int) -> list[int]:
    """This process's part of a global batch; a batch smaller than the world is computed whole everywhere
    (identical gradients average to themselves, and no process waits on an empty shard)."""
    if world == 1 or len(batch) < world:
        return batch
    return [int(i) for i in np.array_split(np.asarray(batch), world)[rank]]


class _Trainable(torch.nn.Module):
    """The LM and its splicer as one module, so accelerate wraps (and DDP synchronises) both."""

    def __init__(self, lm: Any, objective: Objective | None = None):
        super().__init__()
        self.model = lm.model
        self.splicer = lm.splicer if isinstance(lm.splicer, torch.nn.Module) else None
        self.lm = [lm]  # a list: not registered as a submodule twice
        self.objective = objective or AnswerLoss()

    def forward(self, batch: dict[str, Any], normaliser: Any) -> tuple[torch.Tensor, dict[str, Any]]:
        """This batch's loss (over the global batch's ``normaliser``) and what else the objective reports;
        through this module, so DDP sees the forward of every parameter it synchronises."""
        return self.objective.loss(self.lm[0], batch, normaliser)


def _accelerator() -> Any:
    """Accelerate's handle; on a machine without CUDA, processes started by `accelerate launch --multi_gpu`
    or torchrun join a CPU (gloo) group, since `--cpu` launches several processes only through MPI."""
    from accelerate import Accelerator

    return Accelerator(cpu=not torch.cuda.is_available())


def is_main_process() -> bool:
    """True in a plain run and in rank 0 of ``accelerate launch``: the one process that writes outputs."""
    from accelerate import PartialState

    return PartialState().is_main_process


def train(lm: Any, examples_for_epoch: Callable[[int], Sequence[Any]], settings: TrainSettings,
          progress: bool = True, checkpoint: str | Path | None = None,
          keep_checkpoint: bool = False, objective: Objective | None = None) -> TrainResult:
    """Train the trainable parameters of ``lm`` (a LoRA-wrapped model, and its splicer if it has weights).

    Args:
        lm: A :class:`~steervis.lm.model.LanguageModel`; its parameters are updated in place.
        examples_for_epoch: ``epoch -> examples`` (or ``objective``'s items), per epoch: they may reshuffle.
        settings: Epochs, global batch size, optimiser, seed.
        progress: Show a tqdm bar (on the main process).
        checkpoint: Folder for a resumable checkpoint; ``None`` trains without one.
        keep_checkpoint: Also checkpoint the last step and leave it for the caller to remove once it has saved
            the model (:func:`steervis.lm.checkpoint.remove_checkpoint`): a kill between the end of training
            and the save then resumes at the end instead of training again.
        objective: The loss (:mod:`steervis.lm.objectives`; default: the answer tokens' cross-entropy).
    """
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    module = _Trainable(lm, objective)
    params, first = _trainable_and_first_epoch(module, examples_for_epoch)
    per_epoch = math.ceil(len(first) / settings.batch_size)
    total = settings.epochs * per_epoch if settings.max_steps is None else min(settings.epochs * per_epoch,
                                                                              settings.max_steps)
    acc = _accelerator()
    torch.manual_seed(settings.seed)  # LoRA dropout masks
    rng = np.random.default_rng(settings.seed)
    optim = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    sched = get_linear_schedule_with_warmup(optim, int(settings.warmup * total), total)
    result = TrainResult(processes=acc.num_processes)
    state_path = Path(checkpoint) / CHECKPOINT_FILE if checkpoint is not None else None
    fingerprint = run_fingerprint(first, settings, module, module.objective) if state_path else None
    start_epoch = resume_run(state_path, fingerprint, module, optim, sched, rng, result)
    if start_epoch is None:
        start_epoch = 0
    else:
        log.info("resuming training at step %d of %d from %s", result.steps, total, state_path)
    wrapped, optim = acc.prepare(module, optim)
    loop = _Loop(lm, module, wrapped, params, optim, sched, acc, settings, total, state_path, fingerprint,
                 keep_checkpoint)
    clock = time.perf_counter()
    lm.model.train()
    if settings.gradient_checkpointing:
        # Recompute each layer's activations in backward instead of keeping them: memory for more step time.
        lm.model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    bar = tqdm(total=total, initial=result.steps, desc="train", unit="step",
               disable=not progress or not acc.is_local_main_process)
    try:
        loop.run(examples_for_epoch, first, rng, result, start_epoch, per_epoch, bar)
    finally:
        bar.close()
        if settings.gradient_checkpointing:
            lm.model.activation_checkpointing_disable()
        lm.model.eval()
        acc.free_memory()
    if state_path is not None and acc.is_main_process and not keep_checkpoint:
        remove_checkpoint(state_path)  # finished: the caller saves the model itself
    result.seconds = time.perf_counter() - clock
    result.padding_fraction = 1 - loop.real_tokens / max(1, result.tokens)
    return result


def _trainable_and_first_epoch(
    module: _Trainable, examples_for_epoch: Callable[[int], Sequence[Any]],
) -> tuple[list[torch.nn.Parameter], list[Any]]:
    """The parameters that learn and epoch 0's examples, refused early when either has nothing to train."""
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        raise SteervisError("The model has no trainable parameters: wrap it with add_lora first.")
    first = list(examples_for_epoch(0))
    if not first:
        raise SteervisError("No training examples: the chosen domains hold no labelled inputs.")
    module.objective.check(first, module.lm[0])
    return params, first


@dataclass
class _Loop:
    """One run's epoch loop: what it steps (the accelerate-wrapped module, its optimiser and schedule), how
    far, and where it checkpoints; ``real_tokens`` counts this process's non-padding tokens."""

    lm: Any
    module: _Trainable
    wrapped: Any
    params: list[torch.nn.Parameter]
    optim: Any
    sched: Any
    acc: Any
    settings: TrainSettings
    total: int
    state_path: Path | None
    fingerprint: str | None
    keep_checkpoint: bool
    real_tokens: int = 0

    def run(self, examples_for_epoch: Callable[[int], Sequence[Any]], first: list[Any],
            rng: np.random.Generator, result: TrainResult, start_epoch: int, per_epoch: int,
            bar: Any) -> None:
        """Every epoch from ``start_epoch`` until ``total`` steps, skipping the batches a resumed run did."""
        for epoch in range(start_epoch, self.settings.epochs):
            if result.steps >= self.total:
                break
            examples = first if epoch == 0 else list(examples_for_epoch(epoch))
            epoch_rng = rng.bit_generator.state  # a resumed run redraws this epoch's batches identically
            lengths = [self.module.objective.length(e) for e in examples]
            batches = length_batches(lengths, self.settings.batch_size, rng)
            done_in_epoch = result.steps - epoch * per_epoch if epoch == start_epoch else 0
            for batch_idx in batches[max(0, done_in_epoch):]:
                if result.steps >= self.total:
                    break
                self.step(examples, batch_idx, result)
                bar.update(1)
                bar.set_postfix(loss=f"{result.losses[-1]:.3f}")
                self.checkpoint_if_due(result, epoch_rng, epoch)

    def step(self, examples: Sequence[Any], batch_idx: list[int], result: TrainResult) -> None:
        """One optimiser step on one global batch (this process's shard of it), recorded in ``result``."""
        acc, world = self.acc, self.acc.num_processes
        mine = shard(batch_idx, acc.process_index, world)
        # Each process divides its summed loss by the whole batch's normaliser (answer tokens) / world and
        # DDP averages over `world`, so the gradient is the single-process mean over the whole batch.
        split = world if len(mine) < len(batch_idx) else 1
        objective = self.module.objective
        norm = objective.normaliser([examples[i] for i in batch_idx])
        norm = tuple(n / split for n in norm) if isinstance(norm, tuple) else norm / split
        batch = objective.collate([examples[i] for i in mine], self.lm.pad_id)
        batch = {k: v.to(acc.device) if torch.is_tensor(v) else v for k, v in batch.items()}
        loss, parts = self.wrapped(batch, norm)
        acc.backward(loss)
        acc.clip_grad_norm_(self.params, self.settings.grad_clip)
        self.optim.step()
        self.sched.step()
        self.optim.zero_grad(set_to_none=True)
        result.losses.append(float(acc.reduce(loss.detach(), "mean") if world > 1 else loss.detach()))
        for name, value in parts.items():
            value = acc.reduce(value.detach(), "mean") if world > 1 else value
            result.metrics.setdefault(name, []).append(float(value))
        result.steps += 1
        result.examples_seen += len(batch_idx)
        result.shard += mine
        result.tokens += batch["input_ids"].numel()
        self.real_tokens += int(batch["attention_mask"].sum())

    def checkpoint_if_due(self, result: TrainResult, epoch_rng: dict[str, Any], epoch: int) -> None:
        """Save every ``checkpoint_every`` steps (and the last step with ``keep_checkpoint``), main process
        only."""
        due = result.steps % self.settings.checkpoint_every == 0 or (self.keep_checkpoint
                                                                    and result.steps == self.total)
        if self.state_path is not None and due and self.acc.is_main_process:
            save_checkpoint(self.state_path, self.module, self.optim, self.sched, result, epoch_rng, epoch,
                            self.fingerprint)
