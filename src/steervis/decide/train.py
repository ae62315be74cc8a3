"""LoRA finetuning of a causal LM on (prompt, answer) pairs, loss on the answer tokens only.

Batches are built from examples of similar token length (sorted, then cut into batches whose order is
shuffled), so almost no compute goes to padding. The run is seeded; an adapter is written to a temporary
folder and renamed into place, so a killed run never leaves a half-written adapter.

>>> from steervis import zoo
>>> from steervis.decide.config import LoraSettings, TrainSettings
>>> from steervis.decide.lm import LanguageModel
>>> from steervis.decide.train import add_lora, finetune
>>> lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
>>> lm.model = add_lora(lm.model, LoraSettings(), seed=0)
>>> pairs = [("Is fire hot?\\n### Answer:", " yes"), ("Is ice hot?\\n### Answer:", " no")]
>>> result = finetune(lm, lambda epoch: pairs, TrainSettings(epochs=2, batch_size=2), progress=False)
>>> len(result.losses)
2
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from steervis.decide.config import LoraSettings, TrainSettings
from steervis.decide.lm import LanguageModel
from steervis.errors import SteervisError

log = logging.getLogger(__name__)
CARD_NAME = "card.json"
ADAPTER_DIR = "adapter"
IGNORE = -100  # target id the loss skips: padding before shorter answers


@dataclass
class TrainResult:
    """What a finetuning run did: one mean loss per optimiser step, and the cost."""

    losses: list[float] = field(default_factory=list)
    steps: int = 0
    examples_seen: int = 0
    seconds: float = 0.0
    tokens: int = 0
    padding_fraction: float = 0.0

    def summary(self) -> dict[str, Any]:
        head = self.losses[: max(1, len(self.losses) // 10)]
        tail = self.losses[-max(1, len(self.losses) // 10):]
        return {"steps": self.steps, "examples_seen": self.examples_seen, "seconds": round(self.seconds, 1),
                "tokens": self.tokens, "padding_fraction": round(self.padding_fraction, 4),
                "loss_first": float(np.mean(head)) if self.losses else None,
                "loss_last": float(np.mean(tail)) if self.losses else None}


@contextlib.contextmanager
def _quiet_peft():
    """peft reads a transformers property deprecated in v5; the warning is nothing a user can act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


def add_lora(model: Any, settings: LoraSettings, seed: int = 0) -> Any:
    """Wrap ``model`` with a fresh, seeded LoRA adapter (peft); only the adapter is trainable."""
    from peft import LoraConfig, get_peft_model

    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    missing = [m for m in settings.target_modules if m not in names]
    if missing:
        raise SteervisError(f"LoRA target modules {missing} are not in this model; it has e.g. "
                            f"{sorted(n for n in names if n.endswith('proj'))[:8]}. Set lora.target_modules.")
    torch.manual_seed(seed)  # LoRA's A matrices are random: the same seed gives the same adapter
    config = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=list(settings.target_modules), task_type="CAUSAL_LM")
    with _quiet_peft():
        return get_peft_model(model, config)


def encode_pairs(lm: LanguageModel, pairs: Sequence[tuple[str, str]]) -> list[tuple[list[int], int]]:
    """``(prompt + answer ids, answer length)`` per pair; only the answer's tokens are learnt."""
    out = []
    for prompt, answer in pairs:
        a = lm.encode_answer(answer)
        out.append((lm.encode_prompt(prompt) + a, len(a)))
    return out


def length_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """Indices grouped into batches of near-equal length, batch order shuffled.

    Ties are broken randomly so the same lengths do not always share a batch across epochs.
    """
    order = np.lexsort((rng.random(len(lengths)), np.asarray(lengths)))
    batches = [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _collate(examples: list[tuple[list[int], int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Left-padded, so every answer ends at the last column and the loss needs only the last few logits."""
    width = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    k = max(n for _, n in examples)
    targets = torch.full((len(examples), k), IGNORE, dtype=torch.long)
    for row, (seq, n) in enumerate(examples):
        ids[row, width - len(seq):], mask[row, width - len(seq):] = torch.tensor(seq), 1
        targets[row, k - n:] = torch.tensor(seq[-n:])
    return {"input_ids": ids, "attention_mask": mask, "targets": targets}


def answer_loss(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy over the answer tokens, computing vocabulary logits for the last positions only.

    The LM head over every prompt position would cost more than the whole transformer for a 49k vocabulary
    (measured: 4 s vs 16-34 s a step for smollm2, batch 8 x 130 tokens) and hold a [batch, seq, vocab] tensor.
    """
    targets = batch["targets"]
    k = targets.shape[1]
    positions = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], position_ids=positions,
                logits_to_keep=k + 1, use_cache=False)
    logits = out.logits[:, :-1].float()  # position t predicts token t+1: the last k tokens are the answer
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                             ignore_index=IGNORE)


def finetune(lm: LanguageModel, pairs_for_epoch: Callable[[int], Sequence[tuple[str, str]]],
             settings: TrainSettings, progress: bool = True) -> TrainResult:
    """Train ``lm.model`` (already wrapped by :func:`add_lora`) on prompt/answer pairs.

    Args:
        lm: The language model; its trainable parameters are updated in place.
        pairs_for_epoch: ``epoch -> [(prompt, answer)]``; called once per epoch so options can be re-shuffled.
        settings: Epochs, batch size, optimiser, seed.
        progress: Show a tqdm bar.
    """
    from tqdm.auto import tqdm

    params = [p for p in lm.model.parameters() if p.requires_grad]
    if not params:
        raise SteervisError("The model has no trainable parameters: wrap it with add_lora first.")
    first = encode_pairs(lm, pairs_for_epoch(0))
    if not first:
        raise SteervisError("No training examples: the chosen domains hold no labelled images.")
    per_epoch = math.ceil(len(first) / settings.batch_size)
    total = settings.epochs * per_epoch
    if settings.max_steps is not None:
        total = min(total, settings.max_steps)
    warmup = int(settings.warmup * total)
    optim = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(  # linear warm-up, then linear decay to 0
        optim, lambda s: (s + 1) / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
    rng = np.random.default_rng(settings.seed)
    torch.manual_seed(settings.seed)  # LoRA dropout masks
    result, real_tokens, start = TrainResult(), 0, time.perf_counter()
    lm.model.train()
    if settings.gradient_checkpointing:
        # Recompute each layer's activations in backward instead of keeping them: memory for more step time.
        lm.model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    bar = tqdm(total=total, desc="finetune", unit="step", disable=not progress)
    try:
        for epoch in range(settings.epochs):
            examples = first if epoch == 0 else encode_pairs(lm, pairs_for_epoch(epoch))
            for batch_idx in length_batches([len(ids) for ids, _ in examples], settings.batch_size, rng):
                if result.steps >= total:
                    break
                batch = {k: v.to(lm.device) for k, v in
                         _collate([examples[i] for i in batch_idx], lm.pad_id).items()}
                loss = answer_loss(lm.model, batch)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, settings.grad_clip)
                optim.step()
                sched.step()
                optim.zero_grad(set_to_none=True)
                result.losses.append(float(loss.detach()))
                result.steps += 1
                result.examples_seen += len(batch_idx)
                result.tokens += batch["input_ids"].numel()
                real_tokens += int(batch["attention_mask"].sum())
                bar.update(1)
                bar.set_postfix(loss=f"{result.losses[-1]:.3f}")
    finally:
        bar.close()
        if settings.gradient_checkpointing:
            lm.model.activation_checkpointing_disable()
        lm.model.eval()
    result.seconds = time.perf_counter() - start
    result.padding_fraction = 1 - real_tokens / max(1, result.tokens)
    return result


def write_adapter(directory: str | Path, model: Any, card: dict[str, Any]) -> Path:
    """Save the LoRA adapter and its model card atomically: temp folder beside the target, then rename."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.with_name(f".{directory.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save_pretrained(tmp / ADAPTER_DIR)
        (tmp / CARD_NAME).write_text(json.dumps(card, indent=2, default=_jsonable))
        if directory.exists():
            old = directory.with_name(f".{directory.name}.old-{os.getpid()}")
            os.replace(directory, old)
            os.replace(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return directory


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):
        return asdict(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def read_card(directory: str | Path) -> dict[str, Any]:
    """The model card written beside an adapter; a clear error if ``directory`` is not an adapter."""
    path = Path(directory) / CARD_NAME
    if not path.exists():
        raise SteervisError(f"{directory} is not a steervis adapter (no {CARD_NAME}); give the --out of `steervis fit`.")
    return json.loads(path.read_text())


def load_lora(model: Any, directory: str | Path) -> Any:
    """Attach the saved adapter in ``directory`` to a freshly loaded base ``model`` (inference mode)."""
    from peft import PeftModel

    with _quiet_peft():
        return PeftModel.from_pretrained(model, str(Path(directory) / ADAPTER_DIR), is_trainable=False).eval()
