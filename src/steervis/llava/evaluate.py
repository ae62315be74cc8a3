"""Evaluation of steervis' LLaVA: easy-vqa greedy exact match (test split only), and captions naming a class.

>>> from steervis.llava import VLM
>>> from steervis.llava.evaluate import easy_vqa_accuracy
>>> easy_vqa_accuracy(VLM.load("runs/vlm/stage2"), images=100)  # doctest: +SKIP
{'accuracy': 0.93, 'questions': 300, ...}
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import numpy as np

from steervis.classes import named_classes
from steervis.llava.model import SHORT_ANSWER

QUESTIONS_PER_IMAGE = 3  # a few questions from each of many images: more images for the same compute


def normalise(answer: str) -> str:
    """Lower case, first line, no trailing punctuation: "Red." and "red" are the same answer."""
    return (answer.strip().splitlines() or [""])[0].strip().lower().rstrip(".!")


def easy_vqa_answers() -> list[str]:
    """easy-vqa's 13 possible answers (shapes, colours, yes, no), in a fixed order."""
    import easy_vqa

    return sorted(easy_vqa.get_answers())


def easy_vqa_accuracy(vlm: Any, images: int = 100, text_only: bool = False, seed: int = 0,
                      batch_size: int = 16, features: Any = None, scored: bool = True,
                      suffix: str = SHORT_ANSWER) -> dict[str, Any]:
    """Greedy exact-match accuracy on easy-vqa's *test* split (seeded images, a few questions each).

    Also reported: ``relaxed`` (the answer names the gold answer and no other of easy-vqa's 13 answers: credit
    for "The shape is red.") and, with ``scored``, closed-set accuracy by class scoring (every one of the 13
    answers teacher-forced after the image and question, summed log-prob: VLMClassifier's probabilistic
    inference).

    Args:
        vlm: A :class:`~steervis.llava.model.VLM`.
        images: Test images to ask about.
        text_only: Ask without the image (the language prior's baseline).
        features: A feature cache for steervis' own tower (default: the tower's cache).
        suffix: The response-format prompt after each question ("": none).
    """
    from steervis.llava.data import easy_vqa_paths, easy_vqa_questions

    per_image, paths = easy_vqa_questions("test"), easy_vqa_paths("test")
    chosen, rows = _sample_questions(per_image, images, seed)
    visuals = _visuals(vlm, rows, paths, text_only, features)
    questions = [f"{q}\n{suffix}".strip() for _, q, _ in rows]
    clock = time.perf_counter()
    answers = vlm.ask(visuals, questions, max_new_tokens=8, batch_size=batch_size)
    seconds = time.perf_counter() - clock
    golds = [gold for _, _, gold in rows]
    right = [normalise(a) == gold for a, gold in zip(answers, golds, strict=True)]
    options = easy_vqa_answers()
    relaxed = [named_classes(a, options) == [options.index(gold)]
               for a, gold in zip(answers, golds, strict=True)]
    closed = None
    if scored:
        closed = _scored_accuracy(vlm, vlm.prompts(questions, visuals), options, golds, batch_size)
    return {"accuracy": float(np.mean(right)), "relaxed": float(np.mean(relaxed)), "scored": closed,
            "questions": len(rows), "images": len(chosen),
            "text_only": text_only, "format_prompt": bool(suffix), "seconds": round(seconds, 1),
            "by_kind": _accuracy_by_kind(right, [q for _, q, _ in rows]),
            "examples": [{"question": q, "gold": g, "answer": a}
                         for (_, q, g), a in zip(rows[:8], answers[:8], strict=True)]}


def _sample_questions(per_image: dict[int, list[tuple[str, str]]], images: int,
                      seed: int) -> tuple[list[int], list[tuple[int, str, str]]]:
    """``images`` seeded test images, and up to :data:`QUESTIONS_PER_IMAGE` of each one's (question, answer)
    pairs, as ``(image, question, answer)`` rows."""
    rng = np.random.default_rng(seed)
    chosen = [int(i) for i in rng.permutation(sorted(per_image))[:images]]
    rows = []
    for i in chosen:
        qa = per_image[i]
        for j in rng.permutation(len(qa))[:QUESTIONS_PER_IMAGE]:
            rows.append((i, *qa[int(j)]))
    return chosen, rows


def _visuals(vlm: Any, rows: list[tuple[int, str, str]], paths: dict[int, str], text_only: bool,
             features: Any) -> list[Any]:
    """What the VLM is shown per question row: nothing (``text_only``), the image file (a hub Llava), or its
    tower's features from the cache (steervis' own LLaVA)."""
    if text_only:
        return [None] * len(rows)
    files = [paths[i] for i, _, _ in rows]
    if vlm.config.hub:
        return files
    from steervis.data.images import sha256_file

    if features is None:
        from steervis.llava.tower import FeatureCache

        features = FeatureCache(vlm.tower)
    return features.features([sha256_file(f) for f in files], files)


def _scored_accuracy(vlm: Any, prompts: list[Any], options: list[str], golds: list[str],
                     batch_size: int) -> float:
    """Closed-set accuracy: the option with the highest summed log-prob after each prompt."""
    from steervis.lm.scoring import score

    probs = score(vlm.lm, prompts, options, reduction="sum", batch_size=batch_size)
    return float(np.mean([options[int(k)] == gold for k, gold in zip(probs.argmax(1), golds, strict=True)]))


def _accuracy_by_kind(right: list[bool], questions: list[str]) -> dict[str, float]:
    """Accuracy per question kind (yes/no, color, shape), rounded to 4 digits."""
    kinds = Counter()
    kinds_right = Counter()
    for ok, q in zip(right, questions, strict=True):
        yes_no = q.startswith(("is ", "does ", "is there"))
        kind = "yes/no" if yes_no else ("color" if "color" in q else "shape")
        kinds[kind] += 1
        kinds_right[kind] += ok
    return {k: round(kinds_right[k] / kinds[k], 4) for k in sorted(kinds)}
