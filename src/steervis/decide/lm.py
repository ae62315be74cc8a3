"""A causal LM that picks one of a fixed set of answers: exact scoring over the KV cache, or beam search.

``score`` runs each prompt once, copies its KV cache to every candidate answer and teacher-forces all of them
in one batch; each candidate's token log-probs are averaged (or summed) and a softmax over candidates gives a
probability vector (seed 003's "probabilistic inference"). ``generate`` is VLLaVO's reference inference: beam
search, the answer snapped to the nearest class.

>>> from steervis import zoo
>>> from steervis.decide.lm import LanguageModel
>>> lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
>>> lm.score(["Q: which animal barks?\\nA:"], [" cat", " dog"]).shape
(1, 2)
>>> snap_to_class("Dogg.", ["cat", "dog"])
1
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from steervis.errors import SteervisError


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute; cost 1 each), O(len(a)·len(b)) on short strings."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def snap_to_class(answer: str, classes: Sequence[str]) -> int:
    """Index of the class a free-text answer names.

    A class named verbatim as a phrase wins (the longest one, so "ice cream" beats "ice"); otherwise the class at
    the smallest edit distance from the answer's first line. Plain Levenshtein rather than difflib: difflib's
    ratio is a matching heuristic that can return no match at all, and here every answer must map to a class.
    """
    text = (answer.strip().splitlines() or [""])[0].strip().lower().rstrip(".!")
    named = [i for i, c in enumerate(classes) if re.search(rf"(?<!\w){re.escape(c.lower())}(?!\w)", text)]
    if named:
        return max(named, key=lambda i: len(classes[i]))
    distances = [levenshtein(text, c.lower()) for c in classes]
    return int(np.argmin(distances))


class LanguageModel:
    """Wraps a zoo ``CausalLM`` (transformers model + tokenizer, optionally a peft model).

    Args:
        causal_lm: Anything with ``.model`` and ``.tokenizer``.
        add_special_tokens: Let the tokenizer add BOS to prompts (off for chat-templated prompts).
        add_eos: End every candidate answer with EOS, so a class that is a prefix of another ("cat" vs
            "cat food") is scored as a whole answer, and training teaches the model to stop.
        batch_size: Prompts per forward pass.
        max_rows: Cap on prompt×candidate rows in one teacher-forced pass (bounds the copied KV cache).
    """

    def __init__(self, causal_lm: Any, add_special_tokens: bool = True, add_eos: bool = True,
                 batch_size: int = 8, max_rows: int = 64):
        self.model = causal_lm.model
        self.tokenizer = causal_lm.tokenizer
        self.name = getattr(causal_lm, "name", "")
        self.add_special_tokens = add_special_tokens
        self.add_eos = add_eos
        self.batch_size = batch_size
        self.max_rows = max_rows
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def encode_prompt(self, prompt: str) -> list[int]:
        return self.tokenizer(prompt, add_special_tokens=self.add_special_tokens).input_ids

    def encode_answer(self, answer: str) -> list[int]:
        """Answer tokens as teacher-forced after a prompt: tokenized on their own (with their leading space),
        which equals tokenizing prompt + answer whole for templates that end in a cue like "Answer:"."""
        ids = self.tokenizer(answer, add_special_tokens=False).input_ids
        if not ids:
            raise SteervisError(f"The answer {answer!r} has no tokens: class names must not be empty.")
        return ids + ([self.tokenizer.eos_token_id] if self.add_eos else [])

    def _prompt_pass(self, prompt_ids: list[list[int]]) -> tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Left-padded prompts through the model once: (cache, last-token log-probs, mask, lengths)."""
        width = max(map(len, prompt_ids))
        ids = torch.full((len(prompt_ids), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, seq in enumerate(prompt_ids):
            ids[row, width - len(seq):] = torch.tensor(seq)
            mask[row, width - len(seq):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                         position_ids=positions.to(self.device), use_cache=True, logits_to_keep=1)
        last = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
        return out.past_key_values, last, mask, mask.sum(-1)

    @torch.inference_mode()
    def loglik(self, prompts: Sequence[str], answers: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Summed log-prob of every answer after every prompt, and each answer's token count.

        Returns:
            ``(sums [n, k], lengths [k])``.
        """
        answer_ids = [self.encode_answer(a) for a in answers]
        k = len(answer_ids)
        lengths = np.array([len(a) for a in answer_ids])
        sums = np.zeros((len(prompts), k), dtype=np.float64)
        per_pass = max(1, min(self.batch_size, self.max_rows // max(k, 1)))
        chunk = min(k, self.max_rows)
        for start in range(0, len(prompts), per_pass):
            batch = [self.encode_prompt(p) for p in prompts[start : start + per_pass]]
            cache, last, mask, plen = self._prompt_pass(batch)
            for c0 in range(0, k, chunk):
                sums[start : start + len(batch), c0 : c0 + chunk] = self._answers_pass(
                    cache if chunk >= k else copy.deepcopy(cache), last, mask, plen, answer_ids[c0 : c0 + chunk]
                )
        return sums, lengths

    def _answers_pass(self, cache: Any, last: torch.Tensor, mask: torch.Tensor, plen: torch.Tensor,
                      answer_ids: list[list[int]]) -> np.ndarray:
        """Teacher-force every answer after every prompt of a batch, on the prompt cache copied per answer."""
        b, c = last.shape[0], len(answer_ids)
        width = max(map(len, answer_ids))
        ans = torch.full((c, width), self.pad_id, dtype=torch.long)
        amask = torch.zeros_like(ans)
        for row, seq in enumerate(answer_ids):
            ans[row, : len(seq)] = torch.tensor(seq)
            amask[row, : len(seq)] = 1
        cache.batch_repeat_interleave(c)  # rows: prompt 0 × answers, prompt 1 × answers, ...
        ids = ans.repeat(b, 1)
        full_mask = torch.cat([mask.repeat_interleave(c, 0), amask.repeat(b, 1)], dim=1)
        positions = plen.repeat_interleave(c).unsqueeze(1) + torch.arange(width).unsqueeze(0)
        out = self.model(input_ids=ids.to(self.device), attention_mask=full_mask.to(self.device),
                         position_ids=positions.to(self.device), past_key_values=cache, use_cache=True)
        logp = torch.log_softmax(out.logits.float(), dim=-1)  # [b*c, width, vocab]
        first = last.repeat_interleave(c, 0).gather(1, ids[:, :1].to(self.device))  # token 0 from the prompt
        rest = logp[:, :-1].gather(2, ids[:, 1:].unsqueeze(-1).to(self.device)).squeeze(-1)
        token_logp = torch.cat([first, rest], dim=1) * amask.repeat(b, 1).to(self.device)
        return token_logp.sum(1).view(b, c).cpu().numpy()

    def score(self, prompts: Sequence[str], answers: Sequence[str], reduction: str = "mean") -> np.ndarray:
        """Probabilities over ``answers`` for each prompt: softmax of mean (or summed) token log-probs.

        Returns:
            ``[len(prompts), len(answers)]``, rows sum to 1.
        """
        if not answers:
            raise SteervisError("The class list is empty: give at least two class names.")
        if reduction not in ("mean", "sum"):
            raise SteervisError(f"reduction={reduction!r} must be 'mean' or 'sum'.")
        if not prompts:
            return np.zeros((0, len(answers)), dtype=np.float32)
        sums, lengths = self.loglik(prompts, answers)
        scores = sums / lengths if reduction == "mean" else sums
        scores = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)

    @torch.inference_mode()
    def generate(self, prompts: Sequence[str], beams: int = 4, max_new_tokens: int = 50) -> list[str]:
        """Beam-search answers (VLLaVO's inference), decoded without special tokens, one batch at a time."""
        texts: list[str] = []
        side = self.tokenizer.padding_side
        self.tokenizer.padding_side = "left"  # generation continues from the right end of each row
        try:
            for start in range(0, len(prompts), self.batch_size):
                batch = self.tokenizer(list(prompts[start : start + self.batch_size]), return_tensors="pt",
                                       padding=True, add_special_tokens=self.add_special_tokens).to(self.device)
                out = self.model.generate(**batch, num_beams=beams, max_new_tokens=max_new_tokens,
                                          do_sample=False, early_stopping=True, pad_token_id=self.pad_id,
                                          eos_token_id=self.tokenizer.eos_token_id)
                new = out[:, batch["input_ids"].shape[1]:]
                texts += self.tokenizer.batch_decode(new, skip_special_tokens=True)
        finally:
            self.tokenizer.padding_side = side
        return texts
