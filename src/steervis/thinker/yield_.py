"""How many verified chains a writer yields, per question type, against the rate blind guessing would reach.

Per type: ``questions`` (share with at least one verified chain), ``chains`` (share of all chains verified)
and ``format`` (share of chains that follow the format), each with a 95 % interval from resampling questions
(:mod:`steervis.stats`; a question's chains are not independent draws). ``chance`` is the rate one guess is
right (:data:`~steervis.thinker.questions.TYPES`), ``chance_any`` the rate at least one of a question's ``n``
guesses is: a writer whose ``questions`` share does not clear ``chance_any`` has yielded lucky guesses, not
reasoning. ``majority`` is the rate of always giving the type's most frequent truth among these questions
(counts are skewed: most names occur once), a stricter bar than ``chance`` for a single chain.
:func:`compare_writers` runs several LMs on the same questions (SmolLM2-135M against Gemma 3 270M).

>>> rec = {"type": "more_than", "answer": "no", "chance": 0.5,
...        "samples": [{"format_ok": True, "verified": True}, {"format_ok": False, "verified": False}]}
>>> out = chain_yield([rec])["by_type"]["more_than"]
>>> out["questions"][0], out["chains"][0], out["chance_any"], out["majority"]
(100.0, 50.0, 75.0, 100.0)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steervis.stats import accuracy_ci, percent

if TYPE_CHECKING:
    import pandas as pd


def _shares(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The three shares of a group of records, with intervals over questions, in percent."""
    import numpy as np

    verified = [np.array([s["verified"] for s in r["samples"]], dtype=float) for r in records]
    formatted = [np.array([s["format_ok"] for s in r["samples"]], dtype=float) for r in records]
    n = max((len(v) for v in verified), default=0)
    chance = float(np.mean([r["chance"] for r in records])) if records else float("nan")
    answers = Counter(str(r["answer"]) for r in records)
    majority = answers.most_common(1)[0][1] / len(records) if records else float("nan")
    return {"n": len(records), "samples": n,
            "questions": percent(accuracy_ci(np.array([v.max() if len(v) else 0.0 for v in verified]))),
            "chains": percent(accuracy_ci(np.array([v.mean() if len(v) else 0.0 for v in verified]))),
            "format": percent(accuracy_ci(np.array([f.mean() if len(f) else 0.0 for f in formatted]))),
            "chance": round(100 * chance, 1), "chance_any": round(100 * (1 - (1 - chance) ** n), 1),
            "majority": round(100 * majority, 1)}


def chain_yield(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The yield of a run's records (:func:`~steervis.thinker.chains.write_chains`), overall and per type.

    Each share is ``[estimate, low, high]`` in percent; ``chance`` and ``chance_any`` are percents too.
    """
    types = sorted({r["type"] for r in records})
    by_type = {t: _shares([r for r in records if r["type"] == t]) for t in types}
    overall = _shares(records)
    for mixed in ("chance_any", "majority"):  # over a mix of types these say little
        overall.pop(mixed)
    return {**overall, "by_type": by_type}


def compare_writers(names: Sequence[str], questions: pd.DataFrame, out: str | Path, n: int = 4,
                    seed: int = 0, max_new_tokens: int = 192, temperature: float = 0.7, prefill: bool = True,
                    progress: bool = False) -> dict[str, Any]:
    """Each LM of ``names`` writes ``n`` chains for the same ``questions`` (oracle captions) into
    ``out/<name>``; returns its yield by name (``template``: the template teacher).

    Every writer is loaded first: a model whose weights are not installed (``gemma3-270m`` without its
    optional package) is one sentence from the zoo before any chain is written.
    """
    from steervis.thinker.chains import open_writer, write_chains

    writers = [open_writer(name, max_new_tokens, temperature, prefill) for name in names]
    result = {}
    for name, writer in zip(names, writers, strict=True):
        records = write_chains(questions, Path(out) / name, writer, n=n, seed=seed, progress=progress)
        result[name] = chain_yield(records)
    return result
