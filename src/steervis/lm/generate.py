"""Batched generation on the LM core: left-padded prompts (images spliced in), LoRA adapters loaded or not.

Rows are left-padded so every prompt ends at the last column and generation continues from there; the model
reads input embeddings, so a prompt with an image goes through exactly the path a text prompt does.

>>> from steervis import zoo
>>> from steervis.lm.model import LanguageModel
>>> lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
>>> texts = generate(lm, [lm.prompt("Hello"), lm.prompt("A longer prompt")], max_new_tokens=3)
>>> len(texts)
2
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from steervis.lm.batch import Prompt, left_pad


class _Stopped:
    """A transformers stopping criterion that ends every row once ``event`` is set."""

    def __init__(self, event: Any):
        self.event = event

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        done = self.event.is_set()
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


@torch.inference_mode()
def generate(lm: Any, prompts: Sequence[Prompt], beams: int = 1, max_new_tokens: int = 50,
             batch_size: int = 8, sample: bool = False, temperature: float = 1.0, seed: int = 0,
             streamer: Any = None, stop: Any = None, min_new_tokens: int = 0) -> list[str]:
    """Answers decoded without special tokens, one batch of prompts at a time.

    Args:
        lm: A :class:`~steervis.lm.model.LanguageModel`.
        prompts: Token ids (+ image) per prompt.
        beams: Beam count (1: greedy, or sampling when ``sample``).
        max_new_tokens: Generation budget per answer.
        batch_size: Prompts per ``generate`` call.
        sample: Sample instead of searching (VLLaVO's extra BLIP captions are sampled).
        temperature: Sampling temperature.
        seed: Seeds sampling, so the same call gives the same answers.
        streamer: A transformers streamer (e.g. ``TextStreamer``) for one prompt at a time, as chat uses.
        stop: A ``threading.Event``: once set, generation ends after the current token (a cancelled chat).
        min_new_tokens: Tokens written before the end-of-text token may end an answer (a decoding-speed
            benchmark needs answers of a known length).
    """
    from transformers import StoppingCriteriaList

    texts: list[str] = []
    if sample:
        torch.manual_seed(seed)
    for start in range(0, len(prompts), batch_size):
        batch = list(prompts[start : start + batch_size])
        ids, mask = left_pad([p.ids for p in batch], lm.pad_id, device=lm.device)
        embeds = lm.embed(ids, [p.image for p in batch])
        options = {"do_sample": True, "temperature": temperature} if sample else {"do_sample": False}
        if beams > 1:
            options.update(num_beams=beams, early_stopping=True)
        if min_new_tokens:
            options["min_new_tokens"] = min_new_tokens
        if stop is not None:
            options["stopping_criteria"] = StoppingCriteriaList([_Stopped(stop)])
        out = lm.model.generate(inputs_embeds=embeds, attention_mask=mask,
                                max_new_tokens=max_new_tokens, pad_token_id=lm.pad_id,
                                eos_token_id=lm.tokenizer.eos_token_id, streamer=streamer, **options)
        # With inputs_embeds and no input_ids, decoder-only models return the new tokens only.
        texts += lm.tokenizer.batch_decode(out, skip_special_tokens=True)
    return texts
