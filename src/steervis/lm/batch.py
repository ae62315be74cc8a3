"""Model-input batches for the LM core: token ids, an optional image spliced into their embeddings, answer
spans.

A :class:`Prompt` is what the model reads before it answers; an :class:`Example` is a training sequence whose
``targets`` hold the token to learn at each answer position and ``IGNORE`` elsewhere (Hugging Face's labels
convention, several answer spans allowed, as in a multi-turn conversation). ``image`` is whatever the model's
splicer turns into embeddings (cached vision features for steervis' LLaVA, pixel values for a hub Llava); the
core never looks inside it, so vllavo.decide (text only) and llava (images) share every line below.

>>> ex = Example.from_prompt_answer([5, 6, 7], [8, 9])
>>> ex.targets
[-100, -100, -100, 8, 9]
>>> ids, mask = left_pad([[1, 2, 3], [4]], pad_id=0)
>>> ids.tolist(), positions(mask).tolist()
([[1, 2, 3], [0, 0, 4]], [[0, 1, 2], [0, 0, 0]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

IGNORE = -100  # target id the loss skips: prompt tokens, padding


@dataclass
class Prompt:
    """Token ids of a prompt, and the image its image-placeholder tokens stand for (``None``: text only)."""

    ids: list[int]
    image: Any = None


@dataclass
class Example:
    """A training sequence: ids, and per position the token to learn there (``IGNORE`` outside answers)."""

    ids: list[int]
    targets: list[int]
    image: Any = None

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.targets):
            raise ValueError(f"{len(self.ids)} ids but {len(self.targets)} targets")

    @classmethod
    def from_prompt_answer(cls, prompt: Sequence[int], answer: Sequence[int], image: Any = None) -> Example:
        """One answer span at the end: only its tokens are learnt."""
        return cls(list(prompt) + list(answer), [IGNORE] * len(prompt) + list(answer), image)

    @property
    def answer_tokens(self) -> int:
        return sum(t != IGNORE for t in self.targets)


def left_pad(seqs: Sequence[Sequence[int]], pad_id: int, fill: int | None = None,
             device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Right-aligned rows (so every sequence ends at the last column) and their 0/1 attention mask.

    Args:
        seqs: Token id lists.
        pad_id: Id written into padding positions of the ids.
        fill: Value for padding if not ``pad_id`` (e.g. ``IGNORE`` for targets).
        device: Where both tensors are made (the model's device: no copy from the host per batch).
    """
    width = max(len(s) for s in seqs)
    pad = pad_id if fill is None else fill
    rows = [[pad] * (width - len(s)) + list(s) for s in seqs]
    flags = [[0] * (width - len(s)) + [1] * len(s) for s in seqs]
    return (torch.tensor(rows, dtype=torch.long, device=device),
            torch.tensor(flags, dtype=torch.long, device=device))


def positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids of left-padded rows: 0 at each row's first real token (padding gets 0, it is masked)."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


def collate_examples(examples: Sequence[Example], pad_id: int) -> dict[str, Any]:
    """Left-padded ids, mask, positions and targets of a training batch; images kept as a list."""
    # on the host: the trainer moves each batch to its device (accelerate's placement)
    ids, mask = left_pad([e.ids for e in examples], pad_id, device="cpu")
    targets, _ = left_pad([e.targets for e in examples], pad_id, fill=IGNORE, device="cpu")
    return {"input_ids": ids, "attention_mask": mask, "position_ids": positions(mask), "targets": targets,
            "images": [e.image for e in examples]}
