"""Conversation templates: turns (with ``<image>``) → token ids and answer-only targets, written by the LM
core's chat formatter (:mod:`steervis.lm.chat`).

``<image>`` in a user turn becomes ``image_tokens`` copies of the image placeholder id, which the splicer
overwrites with visual tokens. Each piece is tokenized on its own, the same way in training and inference, so
the ids a model learnt on are the ids it is asked with. Templates (:data:`steervis.lm.chat.CHAT_FORMATS`):

- ``plain``: LLaVA's stage-1 format, ``<image>\\n`` then the caption (no roles).
- ``chatml``: SmolLM2 / Qwen chat (``<|im_start|>user ... <|im_end|>``), without a system turn: SmolLM2's
  default system prompt costs 20 tokens on every example and says nothing about images.
- ``vicuna``: LLaVA-1.5's ``USER: ... ASSISTANT:`` for the llava-hf checkpoints.
- ``tokenizer``: the tokenizer's own chat template, its default system prompt included.

>>> from steervis.zoo.embedded import smollm2_tokenizer
>>> tok = smollm2_tokenizer()
>>> ids, targets = encode_turns(tok, TEMPLATES["chatml"], [("<image>\\nWhat is it?", "a cat")], 2, 0)
>>> ids[:5], tok.decode([t for t in targets if t != -100])
([1, 4093, 198, 0, 0], 'a cat<|im_end|>')
"""

from __future__ import annotations

from collections.abc import Sequence

from steervis.errors import SteervisError
from steervis.lm.chat import CHAT_FORMATS, ChatFormat, answer_text, encode_chat

IMAGE = "<image>"
TEMPLATES = CHAT_FORMATS


def template(name: str) -> ChatFormat:
    if name not in TEMPLATES:
        raise SteervisError(f"Unknown conversation template {name!r}: choose one of {', '.join(TEMPLATES)}.")
    return TEMPLATES[name]


def answer_ids(tokenizer, tpl: ChatFormat, answer: str) -> list[int]:
    """An answer's learnt tokens, closing marker included (the model learns to stop)."""
    return tokenizer(answer_text(tokenizer, tpl, answer), add_special_tokens=False).input_ids


def encode_turns(tokenizer, tpl: ChatFormat, turns: Sequence[tuple[str, str | None]], image_tokens: int,
                 image_id: int) -> tuple[list[int], list[int]]:
    """``(ids, targets)`` of a conversation; a last turn with answer ``None`` ends at the assistant cue.

    Args:
        tokenizer: The LM's tokenizer.
        tpl: A :class:`~steervis.lm.chat.ChatFormat` (:func:`template`).
        turns: ``(user text, answer)`` pairs; ``<image>`` may appear in user texts.
        image_tokens: Visual tokens per image.
        image_id: The placeholder token id.
    """
    return encode_chat(tokenizer, tpl, turns, markers={IMAGE: [image_id] * image_tokens})
