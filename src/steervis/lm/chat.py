"""Chat prompts for the LM core: turns (a system prompt, user / assistant messages) → text or token ids.

A conversation is a list of ``(user, answer)`` turns; the last answer may be ``None`` (the prompt then ends at
the assistant cue, where the model goes on). Two kinds of format write it:

- :data:`CHAT_TEMPLATE`, the tokenizer's own chat template: what an instruct model was tuned on, its
  default system prompt included when none is given (SmolLM2's "You are a helpful AI assistant named ...").
- an explicit :class:`ChatFormat` (:data:`CHAT_FORMATS`), for a tokenizer without a template (tiny test
  models) or a model that must not get the template's default system prompt: ``chatml`` is SmolLM2's /
  Qwen's template without a system turn (SmolLM2's default costs 20 tokens on every example and says nothing
  about images), ``vicuna`` LLaVA-1.5's ``USER: ... ASSISTANT:``, ``plain`` the text alone (LLaVA's stage 1).

:func:`encode_chat` tokenizes each piece on its own (system, each user turn, each answer with its closing
marker, each separator), the same way in training and inference, so the ids a model learnt on are the ids it
is asked with; a marker in the text (``<image>``) becomes the ids given for it (image placeholders). Answers
are the learnt targets, everything else ``IGNORE`` (-100).

>>> from steervis.zoo.embedded import smollm2_tokenizer
>>> tok = smollm2_tokenizer()
>>> print(render_chat(tok, CHAT_FORMATS["chatml"], [("Hi", None)]))
<|im_start|>user
Hi<|im_end|>
<|im_start|>assistant
<BLANKLINE>
>>> render_chat(tok, CHAT_TEMPLATE, [("Hi", None)]).startswith("<|im_start|>system\\nYou are a helpful")
True
>>> turns = [("<image>\\nWhat is it?", "a cat")]
>>> ids, targets = encode_chat(tok, CHAT_FORMATS["chatml"], turns, markers={"<image>": [0, 0]})
>>> ids[:5], tok.decode([t for t in targets if t != -100])
([1, 4093, 198, 0, 0], 'a cat<|im_end|>')
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steervis.errors import SteervisError

Turn = tuple[str, str | None]  # (user message, assistant answer; None: the answer the model is to write)


@dataclass(frozen=True)
class ChatFormat:
    """How a conversation is written.

    Args:
        name: What the format is called (``chatml``, ...).
        user: A user turn with its assistant cue; ``{text}`` is the message.
        end: Closes an answer, learnt with it (the model learns to stop); ``{eos}``: the tokenizer's EOS.
        sep: Follows a closed answer (not learnt).
        system: A system turn; ``{text}`` is the prompt. Empty: the format has no system turn.
        default_system: The system prompt written when the caller gives none (``""``: none).
        answer_space: Put a space between the cue and the answer (Vicuna's ``ASSISTANT: answer``).
        from_tokenizer: Write with the tokenizer's chat template instead (:data:`CHAT_TEMPLATE`).
    """

    name: str
    user: str = "{text}"
    end: str = "{eos}"
    sep: str = ""
    system: str = ""
    default_system: str = ""
    answer_space: bool = False
    from_tokenizer: bool = False


CHAT_TEMPLATE = ChatFormat("tokenizer", from_tokenizer=True)
VICUNA_SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. The assistant "
                 "gives helpful, detailed, and polite answers to the human's questions.")
CHAT_FORMATS = {
    "plain": ChatFormat("plain"),
    "chatml": ChatFormat("chatml", "<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n",
                         end="<|im_end|>", sep="\n", system="<|im_start|>system\n{text}<|im_end|>\n"),
    "vicuna": ChatFormat("vicuna", "USER: {text} ASSISTANT:", system="{text} ", default_system=VICUNA_SYSTEM,
                         answer_space=True),
    "tokenizer": CHAT_TEMPLATE,
}


def chat_format(name: str) -> ChatFormat:
    """A format by name (:data:`CHAT_FORMATS`)."""
    if name not in CHAT_FORMATS:
        raise SteervisError(f"Unknown chat format {name!r}: choose one of {', '.join(CHAT_FORMATS)}.")
    return CHAT_FORMATS[name]


def has_template(tokenizer: Any) -> bool:
    """Whether the tokenizer has a chat template (tiny test tokenizers may not)."""
    return bool(getattr(tokenizer, "chat_template", None))


def template_or(tokenizer: Any, fallback: ChatFormat) -> ChatFormat:
    """:data:`CHAT_TEMPLATE` if the tokenizer has a chat template, else ``fallback``."""
    return CHAT_TEMPLATE if has_template(tokenizer) else fallback


def answer_text(tokenizer: Any, fmt: ChatFormat, answer: str) -> str:
    """An answer as learnt after its cue: closing marker included (explicit formats)."""
    end = fmt.end.replace("{eos}", getattr(tokenizer, "eos_token", None) or "")
    return (" " if fmt.answer_space else "") + answer + end


def chat_segments(tokenizer: Any, fmt: ChatFormat, turns: Sequence[Turn],
             system: str | None = None) -> list[tuple[str, bool]]:
    """The conversation as ``(text, learnt)`` pieces, in order; ``learnt`` marks answers (closing marker in).

    Args:
        tokenizer: The LM's tokenizer (its EOS token; its chat template for :data:`CHAT_TEMPLATE`).
        fmt: A :class:`ChatFormat`.
        turns: ``(user, answer)`` pairs; only the last answer may be ``None``.
        system: The system prompt; ``None``: the format's default (for :data:`CHAT_TEMPLATE`, the template's).
    """
    if any(answer is None for _, answer in turns[:-1]):
        raise SteervisError("Only the last turn of a conversation may lack an answer.")
    if fmt.from_tokenizer:
        return _template_segments(tokenizer, turns, system)
    system = fmt.default_system if system is None else system
    if system and not fmt.system:
        raise SteervisError(f"The {fmt.name} chat format has no system turn; leave the system prompt out.")
    out = [(fmt.system.format(text=system), False)] if system else []
    for user, answer in turns:
        out.append((fmt.user.format(text=user), False))
        if answer is not None:
            out += [(answer_text(tokenizer, fmt, answer), True), (fmt.sep, False)]
    return [(text, learnt) for text, learnt in out if text]


def _template_segments(tokenizer: Any, turns: Sequence[Turn], system: str | None) -> list[tuple[str, bool]]:
    """Pieces of the tokenizer's template, cut where each rendered prefix ends: a user turn with the assistant
    cue, then the answer with its closing marker (learnt) and the whitespace after it (not learnt)."""
    if not has_template(tokenizer):
        raise SteervisError("This tokenizer has no chat template: give an explicit chat format (chatml).")
    messages = [] if system is None else [{"role": "system", "content": system}]
    out: list[tuple[str, bool]] = []
    done = ""
    for user, answer in turns:
        messages.append({"role": "user", "content": user})
        asked = _apply(tokenizer, messages, cue=True)
        out.append((_after(done, asked), False))
        if answer is None:
            break
        messages.append({"role": "assistant", "content": answer})
        done = _apply(tokenizer, messages, cue=False)
        reply = _after(asked, done)
        learnt = reply.rstrip()
        out += [(learnt, True), (reply[len(learnt):], False)]
    return [(text, learnt) for text, learnt in out if text]


def _apply(tokenizer: Any, messages: list[dict[str, str]], cue: bool) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=cue)


def _after(prefix: str, text: str) -> str:
    if not text.startswith(prefix):
        raise SteervisError("The tokenizer's chat template rewrites earlier turns as a conversation grows, "
                            "so its turns cannot be told apart; give an explicit chat format.")
    return text[len(prefix):]


def render_chat(tokenizer: Any, fmt: ChatFormat, turns: Sequence[Turn], system: str | None = None) -> str:
    """The conversation as one text (markers such as ``<image>`` left in); see :func:`chat_segments`."""
    return "".join(text for text, _ in chat_segments(tokenizer, fmt, turns, system))


def _ids(tokenizer: Any, text: str, markers: Mapping[str, Sequence[int]]) -> list[int]:
    """Ids of ``text`` with each marker replaced by its ids; the text between is tokenized piece by piece."""
    if not markers:
        return tokenizer(text, add_special_tokens=False).input_ids
    ids: list[int] = []
    for k, part in enumerate(re.split("(" + "|".join(map(re.escape, markers)) + ")", text)):
        if k % 2:
            ids += list(markers[part])
        elif part:
            ids += tokenizer(part, add_special_tokens=False).input_ids
    return ids


def encode_chat(tokenizer: Any, fmt: ChatFormat, turns: Sequence[Turn],
           markers: Mapping[str, Sequence[int]] | None = None,
           system: str | None = None) -> tuple[list[int], list[int]]:
    """``(ids, targets)`` of a conversation, each piece tokenized on its own without BOS; targets hold the
    answers' ids (closing marker included) and ``IGNORE`` elsewhere.

    Args:
        tokenizer: The LM's tokenizer.
        fmt: A :class:`ChatFormat`.
        turns: ``(user, answer)`` pairs; a last answer ``None`` ends the ids at the assistant cue.
        markers: Text → the ids it becomes in prompt pieces (``{"<image>": [image_id] * 16}``).
        system: The system prompt (see :func:`chat_segments`).
    """
    from steervis.lm.batch import IGNORE  # here: rendering text needs no torch

    ids: list[int] = []
    targets: list[int] = []
    for text, learnt in chat_segments(tokenizer, fmt, turns, system):
        # Answers are tokenized whole (a marker in an answer stays text); prompt pieces get markers expanded.
        piece = _ids(tokenizer, text, {} if learnt else markers or {})
        ids += piece
        targets += piece if learnt else [IGNORE] * len(piece)
    return ids, targets
