"""What the LM core's trainer minimises: an :class:`Objective` says how its items are batched and scored.

The trainer (:mod:`steervis.lm.train`) owns the loop, the optimiser, DDP and the resumable checkpoint; an
objective owns the rest: how long an item is (for length batching), what normalises a global batch's loss
(split between processes), how items become a batch and that batch a loss. :class:`AnswerLoss` (the default)
is cross-entropy on answer tokens; :class:`~steervis.lm.preference.DPOLoss` is a preference loss on pairs.

>>> from steervis.lm.batch import Example
>>> AnswerLoss().normaliser([Example.from_prompt_answer([1, 2], [3, 4])])
2.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import torch

from steervis.errors import SteervisError
from steervis.lm.batch import IGNORE, Example, collate_examples


class Objective(Protocol):
    """A training loss over items (examples, pairs, ...) for :func:`steervis.lm.train.train`.

    ``tag`` names it in the run's fingerprint (``""``: the answer loss, whose runs keep their old names);
    ``examples_of`` gives the sequences an item holds, fingerprinted with it.
    """

    tag: str

    def check(self, items: Sequence[Any], lm: Any) -> None: ...

    def length(self, item: Any) -> int: ...

    def examples_of(self, item: Any) -> list[Example]: ...

    def normaliser(self, items: Sequence[Any]) -> Any: ...

    def collate(self, items: Sequence[Any], pad_id: int) -> dict[str, Any]: ...

    def loss(self, lm: Any, batch: dict[str, Any],
             normaliser: Any) -> tuple[torch.Tensor, dict[str, Any]]: ...


def answer_logits(lm: Any, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Vocabulary logits at the positions that predict an answer token only: ``(logits [answer tokens,
    vocab] float, their target tokens, which row each came from)``.

    A boolean ``logits_to_keep`` mask: the LM head over every prompt position costs more than the transformer
    for a 49k vocabulary (measured for smollm2, batch 8 × 130 tokens: 4 s vs 16-34 s a step), and in packed
    conversations, whose answers start early, a [batch, seq, vocab] float tensor and its copies in backward
    were most of stage 2's 9.7 GB peak.
    """
    targets = batch["targets"]
    predicts = torch.zeros_like(targets, dtype=torch.bool)
    predicts[:, :-1] = targets[:, 1:] != IGNORE  # position t predicts token t+1
    out = lm.model(inputs_embeds=lm.embed(batch["input_ids"], batch["images"]),
                   attention_mask=batch["attention_mask"], position_ids=batch["position_ids"],
                   logits_to_keep=predicts, use_cache=False)
    logits = out.logits.reshape(-1, out.logits.shape[-1]).float()
    rows = torch.arange(targets.shape[0], device=targets.device)[:, None].expand_as(targets)
    return logits, targets[:, 1:][predicts[:, :-1]], rows[:, :-1][predicts[:, :-1]]


class AnswerLoss:
    """Summed cross-entropy over the answer tokens, divided by the global batch's answer tokens."""

    tag = ""

    def check(self, items: Sequence[Example], lm: Any) -> None:
        if any(e.answer_tokens == 0 for e in items):
            raise SteervisError("A training example has no answer tokens to learn.")

    def length(self, item: Example) -> int:
        return len(item.ids)

    def examples_of(self, item: Example) -> list[Example]:
        return [item]

    def normaliser(self, items: Sequence[Example]) -> float:
        return float(sum(e.answer_tokens for e in items))

    def collate(self, items: Sequence[Example], pad_id: int) -> dict[str, Any]:
        return collate_examples(items, pad_id)

    def loss(self, lm: Any, batch: dict[str, Any], normaliser: float) -> tuple[torch.Tensor, dict[str, Any]]:
        logits, labels, _ = answer_logits(lm, batch)
        return torch.nn.functional.cross_entropy(logits, labels, reduction="sum") / normaliser, {}
