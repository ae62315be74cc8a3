"""Direct preference optimisation (DPO) on the LM core, with STIC's likelihood regulariser.

A :class:`PreferencePair` is one prompt (and its image) with a chosen and a rejected answer. The policy is the
LoRA-wrapped model; the reference is the same model with its adapters off (peft's ``disable_adapter()``),
read without gradient, so no second copy of the weights is kept. Per pair, with summed answer log-probs
``pc, pr`` (policy) and ``rc, rr`` (reference)::

    loss = -logsigmoid(beta * ((pc - rc) - (pr - rr)))  +  alpha * NLL(chosen answer, per token)

(Rafailov et al. 2023; the NLL term is STIC's regulariser, Deng et al. 2024). Chosen and rejected rows go
through the model as one batch, as they are conditioned on the same prompt and image.

Route: TRL's ``DPOTrainer`` was checked (trl 1.16) and not used: it tokenizes string prompts itself and calls
``model(input_ids, pixel_values, labels=...)`` on a transformers model, while steervis' LLaVA splices cached
tower features into the embeddings outside the model; the loss is ten lines here, on the trainer every other
recipe uses (accelerate, resumable checkpoints).

>>> import torch
>>> loss, parts = dpo_loss(torch.tensor([-2.0]), torch.tensor([-3.0]), torch.tensor([-2.5]),
...                        torch.tensor([-2.5]), beta=1.0)
>>> round(float(loss[0]), 4), float(parts["reward_accuracy"])
(0.3133, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from steervis.errors import SteervisError
from steervis.lm.batch import IGNORE, Example, collate_examples
from steervis.lm.config import DPOSettings
from steervis.lm.objectives import answer_logits


@dataclass
class PreferencePair:
    """One prompt (token ids and image) with the answer to prefer and the answer to avoid."""

    chosen: Example
    rejected: Example

    @classmethod
    def from_prompt(cls, prompt: Sequence[int], chosen: Sequence[int], rejected: Sequence[int],
                    image: Any = None) -> PreferencePair:
        return cls(Example.from_prompt_answer(prompt, chosen, image),
                   Example.from_prompt_answer(prompt, rejected, image))


def sequence_logprobs(lm: Any, batch: dict[str, Any]) -> torch.Tensor:
    """Per row of a collated batch: the summed log-prob of its answer tokens ``[rows]``."""
    logits, labels, rows = answer_logits(lm, batch)
    token = torch.log_softmax(logits, dim=-1).gather(1, labels[:, None]).squeeze(1)
    n = batch["targets"].shape[0]
    return torch.zeros(n, dtype=token.dtype, device=token.device).index_add(0, rows, token)


def dpo_loss(pc: torch.Tensor, pr: torch.Tensor, rc: torch.Tensor, rr: torch.Tensor,
             beta: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Per pair, DPO's loss ``[pairs]``; and the implicit rewards' accuracy and margin (means over pairs).

    Args:
        pc, pr: The policy's summed log-probs of the chosen and rejected answers ``[pairs]``.
        rc, rr: The reference's, for the same answers.
        beta: How far the policy may move from the reference (the rewards' scale).
    """
    chosen, rejected = beta * (pc - rc), beta * (pr - rr)
    loss = -torch.nn.functional.logsigmoid(chosen - rejected)
    parts = {"reward_accuracy": (chosen > rejected).float().mean().detach(),
             "reward_margin": (chosen - rejected).mean().detach(),
             "reward_chosen": chosen.mean().detach(), "reward_rejected": rejected.mean().detach()}
    return loss, parts


class DPOLoss:
    """The trainer's objective on :class:`PreferencePair` items (:class:`~steervis.lm.objectives.Objective`).

    The normaliser is ``(pairs, chosen answer tokens)`` of the global batch: the DPO term is a mean over
    pairs and the NLL a mean over chosen tokens, whatever share of the batch each process computes.
    """

    def __init__(self, settings: DPOSettings | None = None):
        self.settings = settings or DPOSettings()
        self.tag = f"dpo:beta={self.settings.beta}:alpha={self.settings.alpha}"

    def check(self, items: Sequence[PreferencePair], lm: Any) -> None:
        if not hasattr(lm.model, "disable_adapter"):
            raise SteervisError("DPO trains a LoRA adapter: its reference is the model with the adapter off; "
                                "wrap the model with add_lora first.")
        splicer = lm.splicer if isinstance(lm.splicer, torch.nn.Module) else None
        if splicer is not None and any(p.requires_grad for p in splicer.parameters()):
            raise SteervisError("DPO's reference is the model with its adapter off, so only the adapter may "
                                "learn: freeze the projector.")
        if any(p.chosen.answer_tokens == 0 or p.rejected.answer_tokens == 0 for p in items):
            raise SteervisError("A preference pair has an empty chosen or rejected answer.")

    def length(self, item: PreferencePair) -> int:
        return max(len(item.chosen.ids), len(item.rejected.ids))

    def examples_of(self, item: PreferencePair) -> list[Example]:
        return [item.chosen, item.rejected]

    def normaliser(self, items: Sequence[PreferencePair]) -> tuple[float, float]:
        return float(len(items)), float(sum(p.chosen.answer_tokens for p in items))

    def collate(self, items: Sequence[PreferencePair], pad_id: int) -> dict[str, Any]:
        """Chosen rows first, then rejected rows, in one left-padded batch."""
        return collate_examples([p.chosen for p in items] + [p.rejected for p in items], pad_id)

    def loss(self, lm: Any, batch: dict[str, Any],
             normaliser: tuple[float, float]) -> tuple[torch.Tensor, dict[str, Any]]:
        """DPO's mean over the pairs plus ``alpha`` × the chosen answers' per-token NLL."""
        pairs, chosen_tokens = normaliser
        policy = sequence_logprobs(lm, batch)
        with torch.no_grad(), lm.model.disable_adapter():
            reference = sequence_logprobs(lm, batch)
        half = policy.shape[0] // 2
        terms, parts = dpo_loss(policy[:half], policy[half:], reference[:half], reference[half:],
                                self.settings.beta)
        nll = -policy[:half].sum() / chosen_tokens
        mine = max(1, int(batch["targets"][:half].ne(IGNORE).sum()))  # this process's chosen tokens
        parts["nll"] = -policy[:half].detach().sum() / mine
        return terms.sum() / pairs + self.settings.alpha * nll, parts
