"""The peers' scoring strategies, written independently of :mod:`steervis.lm.scoring` to check and time it.

* :func:`full_forward_loglik`: one full forward per (prompt, candidate), requests sorted by length and
  batched, logits over every position, as lm-evaluation-harness and lmms-eval score multiple-choice tasks.
* :func:`per_class_cache_loglik`: the prompt once, then one candidate at a time over a copy of its KV cache,
  as VLMClassifier's code does.

Both return summed log-probs ``[n, k]``; the tests hold steervis' prefix-tree scoring to them within 1e-4.
Both feed the model ``inputs_embeds`` built by the LM's splicer, so a prompt with an image works: the full
forward re-encodes the image for every candidate (as lmms-eval does), the per-class cache encodes it once.

>>> from steervis import zoo
>>> from steervis.lm.model import LanguageModel
>>> lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
>>> full_forward_loglik(lm, [lm.prompt("Q?")], [" a", " b"]).shape
(1, 2)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch

from steervis.lm.batch import Prompt


@torch.inference_mode()
def full_forward_loglik(lm, prompts: Sequence[Prompt], answers: Sequence[str],
                        batch_size: int = 8) -> np.ndarray:
    """Prompt + answer as one right-padded sequence per pair, longest first (lm-evaluation-harness' order)."""
    answer_ids = [lm.encode_answer(a) for a in answers]
    requests = [(i, j, list(p.ids), a) for i, p in enumerate(prompts) for j, a in enumerate(answer_ids)]
    requests.sort(key=lambda r: -(len(r[2]) + len(r[3])))
    out = np.zeros((len(prompts), len(answers)), dtype=np.float64)
    for start in range(0, len(requests), batch_size):
        chunk = requests[start : start + batch_size]
        seqs = [p + a for _, _, p, a in chunk]
        width = max(map(len, seqs))
        ids = torch.full((len(seqs), width), lm.pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, seq in enumerate(seqs):
            ids[row, : len(seq)], mask[row, : len(seq)] = torch.tensor(seq), 1
        embeds = lm.embed(ids, [prompts[i].image for i, _, _, _ in chunk])
        logp = torch.log_softmax(
            lm.model(inputs_embeds=embeds, attention_mask=mask.to(lm.device)).logits.float(), dim=-1)
        for row, (i, j, p, a) in enumerate(chunk):
            positions = torch.arange(len(p) - 1, len(p) - 1 + len(a))
            out[i, j] = logp[row, positions, torch.tensor(a)].sum().item()
    return out


@torch.inference_mode()
def per_class_cache_loglik(lm, prompts: Sequence[Prompt], answers: Sequence[str]) -> np.ndarray:
    """For each prompt: one forward, then each answer alone over a deep copy of the prompt's cache."""
    answer_ids = [lm.encode_answer(a) for a in answers]
    out = np.zeros((len(prompts), len(answers)), dtype=np.float64)
    for i, prompt in enumerate(prompts):
        ids = torch.tensor([prompt.ids])
        first = lm.model(inputs_embeds=lm.embed(ids, [prompt.image]), use_cache=True)
        last = torch.log_softmax(first.logits[0, -1].float(), dim=-1)
        for j, a in enumerate(answer_ids):
            total = last[a[0]].item()
            if len(a) > 1:
                cache = copy.deepcopy(first.cache)
                rest = lm.model(input_ids=torch.tensor([a[:-1]]), cache=cache, use_cache=True).logits[0]
                logp = torch.log_softmax(rest.float(), dim=-1)
                total += logp[torch.arange(len(a) - 1), torch.tensor(a[1:])].sum().item()
            out[i, j] = total
    return out
