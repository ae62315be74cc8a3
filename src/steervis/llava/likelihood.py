"""Answering by likelihood: of a question's candidate answers, the one the model makes likeliest as its reply.

Each question is asked as :meth:`~steervis.llava.model.VLM.ask` asks it (the same chat template, the same
image tokens or none); each candidate is teacher-forced as the assistant's reply, its tokens' log-probs summed
(:func:`steervis.lm.scoring.loglik_ids`: the prompt read once, every candidate over its KV cache). A
candidate is scored in its own spelling and capitalised ("yes" and "Yes"), the two probabilities added: an
answer is a word whatever its case, as greedy answers are compared lower-cased. ``whole``: the candidate is
the whole reply (closing marker included, as answers are learnt) or only its opening (the reply may go on:
"Yes, the image shows ..." counts for "yes"), the fairer test of a model never taught to answer in one word.

>>> from steervis.llava import VLM, VLMConfig
>>> vlm = VLM.create(VLMConfig(lm="tiny-llama"))  # doctest: +SKIP
>>> choose(vlm, [None], ["Is it red?"], [("yes", "no")])  # doctest: +SKIP
['no']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from steervis.errors import SteervisError
from steervis.llava.conversation import template
from steervis.lm.chat import answer_text


def reply_ids(vlm: Any, answer: str, whole: bool = True) -> list[int]:
    """The answer's tokens as the assistant's reply: whole (closing marker in, as learnt) or its opening."""
    tok, tpl = vlm.lm.tokenizer, template(vlm.config.template)
    text = answer_text(tok, tpl, answer) if whole else (" " if tpl.answer_space else "") + answer
    return tok(text, add_special_tokens=False).input_ids


READINGS = ("whole", "opening")  # the candidate as the whole reply, or as the reply's opening


def reply_logprobs(vlm: Any, images: Sequence[Any], questions: Sequence[str],
                   answers: Sequence[str], batch_size: int = 16) -> dict[str, np.ndarray]:
    """Log-probability of each of ``answers`` as the reply to each (image, question), either case, read both
    ways (:data:`READINGS`) from one pass over each prompt: ``{reading: [n, len(answers)]}``."""
    from steervis.lm.scoring import loglik_ids

    if not answers:
        raise SteervisError("Likelihood answering needs at least one candidate answer.")
    forms = [sorted({a, a[:1].upper() + a[1:]}) for a in answers]  # "yes" and "Yes": one answer
    flat = [(f, whole) for whole in (True, False) for fs in forms for f in fs]
    sums = loglik_ids(vlm.lm, vlm.prompts(questions, images), [reply_ids(vlm, f, whole) for f, whole in flat],
                      batch_size=batch_size)
    out, col = {r: np.zeros((len(questions), len(answers))) for r in READINGS}, 0
    for reading in READINGS:
        for k, fs in enumerate(forms):
            out[reading][:, k] = np.logaddexp.reduce(sums[:, col : col + len(fs)], axis=1)
            col += len(fs)
    return out


def answer_logprobs(vlm: Any, images: Sequence[Any], questions: Sequence[str], answers: Sequence[str],
                    whole: bool = True, batch_size: int = 16) -> np.ndarray:
    """Log-probability of each of ``answers`` as the whole reply (or its opening) to each (image, question),
    either case: ``[n, len(answers)]``."""
    return reply_logprobs(vlm, images, questions, answers, batch_size)["whole" if whole else "opening"]


def choices(vlm: Any, images: Sequence[Any], questions: Sequence[str], candidates: Sequence[Sequence[str]],
            batch_size: int = 16) -> dict[str, list[str]]:
    """Per (image, question), its likeliest candidate, read both ways (:data:`READINGS`): ``{reading:
    picks}`` (``candidates``: one list per question; questions that share a list are scored together)."""
    if not len(images) == len(questions) == len(candidates):
        raise SteervisError("Give as many images (or None), questions and candidate lists.")
    picked = {r: [""] * len(questions) for r in READINGS}
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, cands in enumerate(candidates):
        groups.setdefault(tuple(cands), []).append(i)
    for cands, idx in groups.items():
        logp = reply_logprobs(vlm, [images[i] for i in idx], [questions[i] for i in idx], cands, batch_size)
        for reading in READINGS:
            for i, best in zip(idx, logp[reading].argmax(axis=1), strict=True):
                picked[reading][i] = cands[best]
    return picked


def choose(vlm: Any, images: Sequence[Any], questions: Sequence[str], candidates: Sequence[Sequence[str]],
           whole: bool = True, batch_size: int = 16) -> list[str]:
    """Per (image, question), its likeliest candidate as the whole reply (or as its opening)."""
    return choices(vlm, images, questions, candidates, batch_size)["whole" if whole else "opening"]
