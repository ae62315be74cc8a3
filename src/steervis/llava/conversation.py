"""Conversation templates: turns (with ``<image>``) → token ids and answer-only targets.

``<image>`` in a user turn becomes ``image_tokens`` copies of the image placeholder id, which the splicer
overwrites with visual tokens. Each piece is tokenized on its own, the same way in training and inference, so
the ids a model learnt on are the ids it is asked with. Templates:

- ``plain``: LLaVA's stage-1 format, ``<image>\\n`` then the caption (no roles).
- ``chatml``: SmolLM2 / Qwen chat (``<|im_start|>user ... <|im_end|>``), without a system turn: SmolLM2's
  default system prompt costs 20 tokens on every example and says nothing about images.
- ``vicuna``: LLaVA-1.5's ``USER: ... ASSISTANT:`` for the llava-hf checkpoints.

>>> from steervis.zoo.embedded import smollm2_tokenizer
>>> tok = smollm2_tokenizer()
>>> ids, targets = encode_turns(tok, TEMPLATES["chatml"], [("<image>\\nWhat is it?", "a cat")], 2, 0)
>>> ids[:5], tok.decode([t for t in targets if t != -100])
([1, 4093, 198, 0, 0], 'a cat<|im_end|>')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from steervis.errors import SteervisError
from steervis.lm.batch import IGNORE

IMAGE = "<image>"


@dataclass(frozen=True)
class Template:
    """How a turn is written. ``user`` holds ``{text}``; ``end`` closes an answer (learnt); ``sep`` follows it."""

    name: str
    user: str
    end: str
    sep: str = ""
    system: str = ""
    answer_space: bool = False  # Vicuna puts a space between "ASSISTANT:" and the answer


TEMPLATES = {
    "plain": Template("plain", "{text}", end="{eos}"),
    "chatml": Template("chatml", "<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n", end="<|im_end|>",
                       sep="\n"),
    "vicuna": Template("vicuna", "USER: {text} ASSISTANT:", end="{eos}", sep="",
                       system="A chat between a curious human and an artificial intelligence assistant. The "
                              "assistant gives helpful, detailed, and polite answers to the human's questions. ",
                       answer_space=True),
}


def template(name: str) -> Template:
    if name not in TEMPLATES:
        raise SteervisError(f"Unknown conversation template {name!r}: choose one of {', '.join(TEMPLATES)}.")
    return TEMPLATES[name]


def _text_ids(tokenizer, text: str, image_tokens: int, image_id: int) -> list[int]:
    """Ids of ``text`` with each ``<image>`` expanded to ``image_tokens`` placeholders."""
    ids: list[int] = []
    for i, part in enumerate(text.split(IMAGE)):
        if i:
            ids += [image_id] * image_tokens
        if part:
            ids += tokenizer(part, add_special_tokens=False).input_ids
    return ids


def answer_ids(tokenizer, tpl: Template, answer: str) -> list[int]:
    """An answer's learnt tokens, closing marker included (the model learns to stop)."""
    text = (" " if tpl.answer_space else "") + answer + tpl.end.replace("{eos}", tokenizer.eos_token or "")
    return tokenizer(text, add_special_tokens=False).input_ids


def encode_turns(tokenizer, tpl: Template, turns: Sequence[tuple[str, str | None]], image_tokens: int,
                 image_id: int) -> tuple[list[int], list[int]]:
    """``(ids, targets)`` of a conversation; a last turn with answer ``None`` ends at the assistant cue.

    Args:
        tokenizer: The LM's tokenizer.
        tpl: A :class:`Template`.
        turns: ``(user text, answer)`` pairs; ``<image>`` may appear in user texts.
        image_tokens: Visual tokens per image.
        image_id: The placeholder token id.
    """
    ids = _text_ids(tokenizer, tpl.system, 0, image_id) if tpl.system else []
    targets = [IGNORE] * len(ids)
    for k, (user, answer) in enumerate(turns):
        prompt = _text_ids(tokenizer, tpl.user.format(text=user), image_tokens, image_id)
        ids += prompt
        targets += [IGNORE] * len(prompt)
        if answer is None:
            if k != len(turns) - 1:
                raise SteervisError("Only the last turn of a conversation may lack an answer.")
            break
        learnt = answer_ids(tokenizer, tpl, answer)
        sep = tokenizer(tpl.sep, add_special_tokens=False).input_ids if tpl.sep else []
        ids += learnt + sep
        targets += learnt + [IGNORE] * len(sep)
    return ids, targets
