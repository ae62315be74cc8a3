"""Evaluation of steervis' LLaVA: easy-vqa greedy exact match (validation or test split), and captions naming
a class.

>>> from steervis.llava import VLM
>>> from steervis.llava.evaluate import easy_vqa_accuracy
>>> easy_vqa_accuracy(VLM.load("runs/vlm/stage2"), images=100)  # doctest: +SKIP
{'accuracy': 0.93, 'questions': 300, ...}
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from steervis.classes import named_classes
from steervis.llava.model import SHORT_ANSWER
from steervis.stats import accuracy_ci

QUESTIONS_PER_IMAGE = 3  # a few questions from each of many images: more images for the same compute


def normalise(answer: str) -> str:
    """Lower case, first line, no trailing punctuation: "Red." and "red" are the same answer."""
    return (answer.strip().splitlines() or [""])[0].strip().lower().rstrip(".!")


def easy_vqa_answers() -> list[str]:
    """easy-vqa's 13 possible answers (shapes, colours, yes, no), in a fixed order."""
    import easy_vqa

    return sorted(easy_vqa.get_answers())


def easy_vqa_accuracy(vlm: Any, images: int | None = 100, text_only: bool = False, seed: int = 0,
                      batch_size: int = 16, features: Any = None, scored: bool = True,
                      suffix: str = SHORT_ANSWER, split: str = "test",
                      per_image: int | None = QUESTIONS_PER_IMAGE, stated: bool = False) -> dict[str, Any]:
    """Greedy exact-match accuracy on an easy-vqa split, overall and per question kind, with 95 % intervals.

    Also reported: ``relaxed`` (the answer names the gold answer and no other of easy-vqa's 13 answers: credit
    for "The shape is red.") and, with ``scored``, closed-set accuracy by class scoring (every one of the 13
    answers teacher-forced after the image and question, summed log-prob: VLMClassifier's probabilistic
    inference).

    Args:
        vlm: A :class:`~steervis.llava.model.VLM`.
        images: Seeded images to ask about (``None``: every image of the split).
        text_only: Ask without the image (the language prior's baseline).
        features: A feature cache for steervis' own tower (default: the tower's cache).
        suffix: The response-format prompt after each question ("": none).
        split: ``val`` (where recipes are chosen), ``test`` (a final model's score), or ``diagnosis`` (the
            fixed 1,000-question subset of ``val``; ``images`` and ``per_image`` do not apply).
        per_image: Questions per image (``None``: all of them).
        stated: yes/no questions ask for the shape's colour and shape first ("a red circle, so no.") and the
            reply's last yes or no is scored (:func:`steervis.llava.easyvqa.final_answer`), as a model
            trained with ``vqa_stated`` answers; closed-set scoring then covers the other questions only.
    """
    from steervis.llava import easyvqa

    if split == "diagnosis":
        rows, paths = easyvqa.diagnosis_rows(), easyvqa.paths("val")
    else:
        rows, paths = easyvqa.rows(split, images, per_image, seed), easyvqa.paths(split)
    visuals = _visuals(vlm, rows, paths, text_only, features)
    questions = [easyvqa.prompt(q, suffix, stated) for _, q, _ in rows]
    clock = time.perf_counter()
    replies = vlm.ask(visuals, questions, max_new_tokens=12 if stated else 8,  # "a yellow rectangle, so no."
                      batch_size=batch_size)
    seconds = time.perf_counter() - clock
    answers = [easyvqa.scored_answer(q, r, stated) for (_, q, _), r in zip(rows, replies, strict=True)]
    golds = [gold for _, _, gold in rows]
    right = np.array([normalise(a) == gold for a, gold in zip(answers, golds, strict=True)])
    options = easy_vqa_answers()
    relaxed = [named_classes(a, options) == [options.index(gold)]
               for a, gold in zip(answers, golds, strict=True)]
    closed = None
    if scored:  # a stated reply is not one of the 13 answers: its questions are left out of closed scoring
        keep = [k for k, (_, q, _) in enumerate(rows) if not stated or easyvqa.question_kind(q) != "yes/no"]
        closed = _scored_accuracy(vlm, vlm.prompts([questions[k] for k in keep], [visuals[k] for k in keep]),
                                  options, [golds[k] for k in keep], batch_size) if keep else None
    kinds = np.array([easyvqa.question_kind(q) for _, q, _ in rows])
    return {"accuracy": float(right.mean()), "ci95": list(accuracy_ci(right)[1:]),
            "relaxed": float(np.mean(relaxed)), "scored": closed, "split": split,
            "questions": len(rows), "images": len({i for i, _, _ in rows}),
            "text_only": text_only, "format_prompt": bool(suffix), "stated_yes_no": stated,
            "seconds": round(seconds, 1),
            "by_kind": {k: _kind_row(right[kinds == k]) for k in easyvqa.KINDS if (kinds == k).any()},
            "examples": [{"question": q, "gold": g, "answer": a}
                         for (_, q, g), a in zip(rows[:8], replies[:8], strict=True)]}


def _kind_row(right: np.ndarray) -> dict[str, Any]:
    """Accuracy of one question kind, its 95 % interval and count, rounded to 4 digits."""
    mean, low, high = accuracy_ci(right)
    return {"accuracy": round(mean, 4), "ci95": [round(low, 4), round(high, 4)], "questions": int(right.size)}


def _visuals(vlm: Any, rows: list[tuple[int, str, str]], paths: dict[int, str], text_only: bool,
             features: Any) -> list[Any]:
    """What the VLM is shown per question row: nothing (``text_only``), else :func:`shown`."""
    if text_only:
        return [None] * len(rows)
    return shown(vlm, [paths[i] for i, _, _ in rows], features)


def shown(vlm: Any, files: list[str], features: Any = None) -> list[Any]:
    """What the VLM is shown of image files: the files (a hub Llava), or its tower's features from the cache
    (steervis' own LLaVA; ``features`` default: the tower's cache)."""
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
