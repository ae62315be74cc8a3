"""Detection prompts as GLIP writes them: phrases separated by full stops, each with its character span, its
token span (the positive map) and long prompts cut into chunks.

A prompt ``"a dog. a guitar."`` is one sentence the text encoder reads whole (each token's state depends on
the others), and every phrase owns the tokens its characters cover. GLIP scores a location against a phrase
by the tokens of that phrase (the positive map), never by one pooled vector per phrase.

>>> [(p.text, p.start, p.end) for p in parse_prompt("dog. guitar. lemon.")]
[('dog', 0, 3), ('guitar', 5, 11), ('lemon', 13, 18)]
>>> [len(c) for c in chunk_phrases(["x"] * 40, size=16)]
[16, 16, 8]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from steervis.errors import SteervisError

# GLIP's evaluation feeds LVIS' 1,203 names in chunks of a few dozen; 1,000 phrases is 63 chunks of 16 here,
# already minutes on a CPU: beyond it, split the prompt yourself.
MAX_PHRASES = 1000
MAX_PHRASE_CHARS = 200  # a phrase longer than a sentence is a paste error, not a name
CHUNK = 16  # phrases per chunk: within GLIP's 8-20, short enough for a 128-token encoder window


@dataclass(frozen=True)
class Phrase:
    """One phrase of a prompt and where its characters lie in the prompt's text."""

    text: str
    start: int
    end: int


def split_phrases(prompt: str) -> list[str]:
    """The phrases of a prompt: pieces between full stops, stripped, empty ones dropped, repeats kept once."""
    if not isinstance(prompt, str):
        raise SteervisError("A prompt is text (phrases separated by full stops), not "
                            f"{type(prompt).__name__}.")
    phrases = list(dict.fromkeys(p.strip() for p in prompt.split(".") if p.strip()))
    if not phrases:
        raise SteervisError("The prompt names nothing: write phrases separated by full stops, e.g. "
                            "'a dog. a guitar.'")
    if len(phrases) > MAX_PHRASES:
        raise SteervisError(f"The prompt has {len(phrases)} phrases; at most {MAX_PHRASES} are read "
                            "(split it into several prompts).")
    long = [p for p in phrases if len(p) > MAX_PHRASE_CHARS]
    if long:
        raise SteervisError(f"A phrase is {len(long[0])} characters long; at most {MAX_PHRASE_CHARS} (is a "
                            "full stop missing?).")
    return phrases


def join_phrases(phrases: Sequence[str]) -> tuple[str, list[Phrase]]:
    """The prompt text GLIP feeds the encoder (``"dog. guitar."``) and each phrase's character span in it."""
    text, spans = "", []
    for phrase in phrases:
        spans.append(Phrase(phrase, len(text), len(text) + len(phrase)))
        text += phrase + ". "
    return text.rstrip(), spans


def parse_prompt(prompt: str) -> list[Phrase]:
    """The phrases of ``prompt`` with their character spans in the text :func:`join_phrases` writes."""
    return join_phrases(split_phrases(prompt))[1]


def chunk_phrases(phrases: Sequence[str], size: int = CHUNK) -> list[list[str]]:
    """Consecutive chunks of at most ``size`` phrases (GLIP's evaluation over long label lists)."""
    if size < 1:
        raise SteervisError(f"chunk size {size} must be at least 1.")
    return [list(phrases[i : i + size]) for i in range(0, len(phrases), size)]


def token_spans(offsets: Sequence[tuple[int, int]], phrases: Sequence[Phrase]) -> list[list[int]]:
    """The token indices each phrase covers, from a fast tokenizer's ``offset_mapping`` (special tokens have
    ``(0, 0)`` and cover nothing)."""
    spans = []
    for phrase in phrases:
        spans.append([i for i, (a, b) in enumerate(offsets)
                      if b > a and a < phrase.end and b > phrase.start])
    return spans


def positive_map(spans: Sequence[Sequence[int]], n_tokens: int) -> Any:
    """``[phrases, tokens]`` float tensor: row p is 1 on phrase p's tokens, normalised to sum 1 (GLIP averages
    a phrase's token probabilities)."""
    import torch

    out = torch.zeros(len(spans), n_tokens)
    for p, tokens in enumerate(spans):
        if not tokens:
            raise SteervisError(f"Phrase {p + 1} of the prompt was cut off by the text encoder's length "
                                "limit; write fewer or shorter phrases per chunk.")
        out[p, tokens] = 1.0 / len(tokens)
    return out


@dataclass
class EncodedPrompt:
    """A chunk's text tokenised: ids, attention mask, and its phrases' positive map."""

    phrases: list[str]
    input_ids: Any  # [1, tokens]
    attention_mask: Any  # [1, tokens]
    positive: Any  # [phrases, tokens], rows sum to 1


def encode_phrases(tokenizer: Any, phrases: Sequence[str], max_length: int = 128) -> EncodedPrompt:
    """Tokenise one chunk of phrases as one sentence and map each phrase to its tokens."""
    return encode_prompts(tokenizer, [phrases], max_length)[0]


def encode_prompts(tokenizer: Any, prompts: Sequence[Sequence[str]],
                   max_length: int = 128) -> list[EncodedPrompt]:
    """Several prompts tokenised in one padded batch (a training batch: one prompt per image); each keeps
    its own positive map over the batch's padded length (padding covers no phrase)."""
    joined = [join_phrases(phrases) for phrases in prompts]
    batch = tokenizer([text for text, _ in joined], return_offsets_mapping=True, truncation=True,
                      max_length=max_length, padding=True, return_tensors="pt")
    out = []
    for i, (phrases, (_, spans)) in enumerate(zip(prompts, joined, strict=True)):
        offsets = [tuple(int(v) for v in pair) for pair in batch["offset_mapping"][i].tolist()]
        out.append(EncodedPrompt(list(phrases), batch["input_ids"][i : i + 1],
                                 batch["attention_mask"][i : i + 1],
                                 positive_map(token_spans(offsets, spans), len(offsets))))
    return out
