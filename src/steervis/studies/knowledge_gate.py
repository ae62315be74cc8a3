"""The knowledge gate: which WordNet question types a text LM answers when it is *told* the true class.

ImageWikiQA (VLMClassifier, Zhang et al.) traces a VLM's failures on knowledge questions about an image to
failing to recognise it: given the ground-truth class name, the language model answers them. This is that
row, and the cheap check to run before any image: a type the LM cannot answer even with the class named
measures its knowledge, not recognition, and is dropped. Each question is scored exactly over its four
options (:func:`steervis.lm.scoring.score`, as multiple-choice harnesses score continuations); accuracy per
type comes with a 95 % bootstrap interval; a type is kept at :data:`KEEP` or more, over at least
:data:`MIN_QUESTIONS` questions (fewer are too few to judge). Chance is 25 %.

>>> rows = pd.DataFrame({"type": ["hypernym"] * 5 + ["part"] * 5, "answer": [0] * 10})
>>> table = gate_table(rows, np.array([0, 0, 0, 0, 1, 0, 2, 3, 1, 0]), min_questions=5)
>>> table["hypernym"]["accuracy"][0], table["hypernym"]["kept"], table["part"]["kept"]
(80.0, True, False)
>>> verdict("tiny", table)
'tiny, told the class, answers 1 of 2 question types at >= 80 % (kept: hypernym); dropped: part.'
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from steervis.data.knowledge.questions import TYPES
from steervis.stats import accuracy_ci, percent

GATE_MODELS = ("smollm2-135m-instruct", "gemma3-270m")  # gemma3-270m needs its optional weights package
KEEP = 0.8  # a type answered this often with the class named leaves room to see a recognition failure
CHANCE = 0.25  # four options
MIN_QUESTIONS = 10  # below this the 95 % interval spans more than 50 points: a type is not judged


def article(name: str) -> str:
    """``name`` as the object of "The image shows": "an owl", "a dog", "grapes" (plural names bare)."""
    if name.endswith("s") and not name.endswith("ss"):
        return name
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def gate_prompt(name: str, question: str, options: list[str]) -> str:
    """The question about an image, with the image's true class told in words instead of shown."""
    return (f"The image shows {article(name)}.\nQuestion: {question}\nOptions: {'; '.join(options)}.\n"
            "Answer:")


def answer_questions(lm: Any, frame: pd.DataFrame, reduction: str = "mean") -> np.ndarray:
    """The option each question's highest score picks (its own four options, read after its prompt)."""
    from steervis.lm.scoring import score

    chosen = []
    for name, question, options in zip(frame["class"], frame["question"], frame["options"], strict=True):
        prompt = lm.prompt(gate_prompt(name, question, list(options)))
        probs = score(lm, [prompt], [f" {o}" for o in options], reduction=reduction)
        chosen.append(int(probs[0].argmax()))
    return np.array(chosen, dtype=np.int64)


def gate_table(frame: pd.DataFrame, chosen: np.ndarray, keep: float = KEEP,
               min_questions: int = MIN_QUESTIONS) -> dict[str, dict[str, Any]]:
    """Per question type: how many, accuracy [estimate, low, high] in %, whether there are too few to judge
    and whether it is kept."""
    correct = (np.asarray(chosen) == frame["answer"].to_numpy()).astype(np.float64)
    out = {}
    for kind in sorted(set(frame["type"]), key=lambda t: (TYPES.index(t) if t in TYPES else len(TYPES), t)):
        hits = correct[(frame["type"] == kind).to_numpy()]
        acc = accuracy_ci(hits)
        few = bool(hits.size < min_questions)
        out[kind] = {"questions": int(hits.size), "accuracy": percent(acc), "too_few": few,
                     "kept": bool(acc[0] >= keep and not few)}
    return out


def verdict(model: str, table: dict[str, dict[str, Any]], keep: float = KEEP) -> str:
    """One line: how many types the model answers with the class told, which are kept, which dropped, which
    have too few questions to judge."""
    kept = [k for k, row in table.items() if row["kept"]]
    dropped = [k for k, row in table.items() if not row["kept"] and not row.get("too_few")]
    few = [f"{k} ({row['questions']})" for k, row in table.items() if row.get("too_few")]
    parts = [f"answers {len(kept)} of {len(table) - len(few)} question types at >= {100 * keep:.0f} % "
             f"(kept: {', '.join(kept) or 'none'})"] if len(few) < len(table) else []
    parts += [f"dropped: {', '.join(dropped)}"] if dropped else []
    parts += [f"too few questions to judge: {', '.join(few)}"] if few else []
    return f"{model}, told the class, {'; '.join(parts)}."


def knowledge_gate(models: list[str] | tuple[str, ...] = GATE_MODELS, split: str = "validation",
                   limit: int | None = None, keep: float = KEEP, min_questions: int = MIN_QUESTIONS,
                   reduction: str = "mean", seed: int = 0, data: str | None = None) -> dict[str, Any]:
    """``steervis study knowledge-gate``: per model, accuracy per question type with the true class told
    (``limit`` questions, a seeded sample; ``data`` a built knowledge folder, default the cache's)."""
    from steervis import zoo
    from steervis.data.knowledge import load_questions
    from steervis.errors import SteervisError
    from steervis.lm.model import LanguageModel

    frame = load_questions(data or None, split=split)
    if limit:
        frame = frame.sample(n=min(limit, len(frame)), random_state=seed).reset_index(drop=True)
    out: dict[str, Any] = {"split": split, "questions": len(frame), "keep": round(100 * keep, 1),
                           "min_questions": min_questions,
                           "chance": 100 * CHANCE, "reduction": reduction, "models": {}}
    for name in models:
        try:
            lm = LanguageModel(zoo.load(name, kind="causal-lm"))
        except SteervisError as err:  # an optional model without its package: skipped, said why
            out["models"][name] = {"skipped": str(err)}
            continue
        start = time.perf_counter()
        chosen = answer_questions(lm, frame, reduction=reduction)
        seconds = time.perf_counter() - start
        table = gate_table(frame, chosen, keep, min_questions)
        out["models"][name] = {"types": table, "verdict": verdict(name, table, keep),
                               "seconds": round(seconds, 1),
                               "seconds_per_question": round(seconds / max(1, len(frame)), 3)}
    return out
