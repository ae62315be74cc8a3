"""VLLaVO's instruction template: a description and the class options in, the class name out.

The plain variant is VLLaVO's text verbatim; the ``chat`` variant wraps the same question in the tokenizer's
chat template (for instruct models); the LM core's chat formatter (:mod:`steervis.lm.chat`) writes both.
Options are listed in a seeded random order per example, so the model learns class names rather than
positions, and the same input always gets the same order. A description too long for the context is truncated
(never the options or the answer), with one warning per builder.

>>> from steervis.vllavo.decide.template import PromptBuilder
>>> builder = PromptBuilder(kind="vllavo", shuffle=False)
>>> print(builder.build(["Tags:\\n- dog"], ["cat", "dog"])[0])
Give the information about an image:
Tags:
- dog
According to the information, choose the most similar category from the given options: cat, dog.
### Answer:
>>> builder.answer("dog")
' dog'
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from steervis.errors import SteervisError
from steervis.lm.chat import CHAT_TEMPLATE, ChatFormat, has_template, render_chat

log = logging.getLogger(__name__)

VLLAVO_QUESTION = (
    "Give the information about an image:\n{description}\n"
    "According to the information, choose the most similar category from the given options: {options}."
)
VLLAVO_ANSWER_CUE = "\n### Answer:"
VLLAVO_FORMAT = ChatFormat("vllavo", user="{text}" + VLLAVO_ANSWER_CUE, answer_space=True)


def option_order(classes: Sequence[str], key: str, seed: int = 0) -> list[str]:
    """``classes`` in a random order fixed by ``key`` (e.g. the description) and ``seed``."""
    digest = int.from_bytes(hashlib.sha256(f"{seed}\x00{key}".encode()).digest()[:8], "little")
    perm = np.random.default_rng(digest).permutation(len(classes))
    return [classes[i] for i in perm]


@dataclass
class PromptBuilder:
    """Renders prompts and answers for one template; truncates descriptions that do not fit.

    Args:
        kind: ``vllavo`` (plain text) or ``chat`` (the tokenizer's chat template; needs ``tokenizer``).
        tokenizer: Needed for ``chat`` and for truncation; without it no length check is made.
        max_length: Token budget for prompt + answer.
        shuffle: Shuffle the options per example (seeded by the description, ``seed`` and ``epoch``).
        seed: Seed of the option order.
    """

    kind: str = "vllavo"
    tokenizer: Any = None
    max_length: int = 512
    shuffle: bool = True
    seed: int = 0
    _warned: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in ("vllavo", "chat"):
            raise SteervisError(f"Unknown template {self.kind!r}: use 'vllavo' or 'chat'.")
        if self.kind == "chat" and not has_template(self.tokenizer):
            raise SteervisError("The chat template needs a tokenizer that has one; use template=vllavo.")

    @property
    def format(self) -> ChatFormat:
        """The chat format prompts are written in: VLLaVO's text, or the tokenizer's chat template."""
        return VLLAVO_FORMAT if self.kind == "vllavo" else CHAT_TEMPLATE

    @property
    def add_special_tokens(self) -> bool:
        """Whether tokenizing a prompt should add BOS etc. (a chat template writes its own)."""
        return self.kind != "chat"

    def answer(self, label: str) -> str:
        """The text the model should continue a prompt with (a space after the cue in the plain variant)."""
        return (" " if self.format.answer_space else "") + label

    def _render(self, description: str, options: Sequence[str]) -> str:
        question = VLLAVO_QUESTION.format(description=description, options=", ".join(options))
        return render_chat(self.tokenizer, self.format, [(question, None)])

    def _n_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=self.add_special_tokens).input_ids)

    def _fit(self, description: str, options: Sequence[str], answer_tokens: int) -> str:
        """The description cut to the token budget left by the rest of the prompt and the longest answer."""
        if self.tokenizer is None:
            return description
        overhead = self._n_tokens(self._render("", options))
        budget = self.max_length - overhead - answer_tokens - 1  # -1: the end-of-answer token
        if budget < 8:
            raise SteervisError(
                f"The template and the {len(options)} class options alone take {overhead} tokens, leaving no "
                f"room for a description within max_length={self.max_length}; raise max_length or use fewer "
                "classes."
            )
        ids = self.tokenizer(description, add_special_tokens=False).input_ids
        if len(ids) <= budget:
            return description
        if not self._warned:
            log.warning("A description is %d tokens, more than the %d left within max_length=%d; "
                        "descriptions are truncated to fit (options and answer are kept whole). Warned once.",
                        len(ids), budget, self.max_length)
            self._warned = True
        return self.tokenizer.decode(ids[:budget])

    def build(self, descriptions: Sequence[str], classes: Sequence[str], epoch: int = 0) -> list[str]:
        """One prompt per description, options in a per-example order.

        Args:
            descriptions: Rendered descriptions ("Tags:\\n- ...").
            classes: The class names offered as options.
            epoch: Mixed into the option-order seed so each training epoch sees a new order.
        """
        if not classes:
            raise SteervisError("The class list is empty: give at least two class names.")
        answer_tokens = 0
        if self.tokenizer is not None:
            answer_tokens = max(len(self.tokenizer(self.answer(c), add_special_tokens=False).input_ids)
                                for c in classes)
        prompts = []
        for text in descriptions:
            options = list(classes)
            if self.shuffle:
                options = option_order(classes, f"{epoch}\x00{text}", self.seed)
            prompts.append(self._render(self._fit(text, options, answer_tokens), options))
        return prompts
