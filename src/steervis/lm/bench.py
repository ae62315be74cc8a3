"""The timing core of ``steervis bench score``: strategies a-d on one LM, one batch of prompts, one label
space.

Prompts may carry images (the VLM's splicer puts them in); the strategies are

* (a) ``full-forward``: one full forward per (prompt, class), batched, as lm-evaluation-harness / lmms-eval
  (with an image: re-encoded for every class);
* (b) ``per-class-cache``: the prompt once, each class alone over a copy of its KV cache, as VLMClassifier;
* (c) ``steervis``: the prompt once, all classes as one prefix tree over the cache
  (:mod:`steervis.lm.scoring`);
* (d) ``prompt-pass``: steervis' prompt pass alone, same batch size: the floor (c) cannot beat.

vllavo/decide/bench.py (VLLaVO text prompts) and llava/bench.py (image + question) build the prompts and call
:func:`time_strategies`.

>>> from steervis import zoo
>>> from steervis.lm.model import LanguageModel
>>> lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
>>> row = time_strategies(lm, [lm.prompt("Q: which?\\nA:")], [" cat", " dog"], label_space="toy")
>>> sorted(row["s_per_prompt"]), row["max_abs_diff"]["a_vs_c"] < 1e-4
(['a_full_forward', 'b_per_class_cache', 'c_steervis', 'd_prompt_pass'], True)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# above this many classes the peers are timed on fewer prompts (per-prompt cost is what counts)
PEER_LIMIT = 64


def _timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def prompt_passes(lm: Any, batch: Sequence[Any], batch_size: int) -> None:
    """Strategy (d): the prompt pass and the first answer token's log-probs, nothing else."""
    import torch

    with torch.inference_mode():
        for start in range(0, len(batch), batch_size):
            _, last, _ = lm.prompt_pass(batch[start : start + batch_size], cache=True)
            lm.head_logprobs(last)


def time_strategies(lm: Any, batch: Sequence[Any], answers: Sequence[str], batch_size: int = 8,
                    label_space: str = "") -> dict[str, Any]:
    """Seconds per prompt of strategies a-d on ``batch`` and ``answers``, speed ratios, largest score gaps."""
    from steervis.lm.reference import full_forward_loglik, per_class_cache_loglik
    from steervis.lm.scoring import loglik

    batch, k, prompts = list(batch), len(answers), len(batch)
    loglik(lm, batch[:1], answers)  # warm-up: allocator, thread pools
    n_a = prompts if k <= PEER_LIMIT else 1
    n_b = prompts if k <= PEER_LIMIT else min(2, prompts)
    (ours, _), t_c = _timed(loglik, lm, batch, answers, batch_size=batch_size)
    _, t_d = _timed(prompt_passes, lm, batch, batch_size)
    a, t_a = _timed(full_forward_loglik, lm, batch[:n_a], answers, batch_size=batch_size)
    b, t_b = _timed(per_class_cache_loglik, lm, batch[:n_b], answers)
    row = {"classes": k, "label_space": label_space,
           "prompt_tokens": round(float(np.mean([len(p.ids) for p in batch])), 1),
           "answer_tokens": int(sum(len(lm.encode_answer(a_)) for a_ in answers)),
           "s_per_prompt": {"a_full_forward": t_a / n_a, "b_per_class_cache": t_b / n_b,
                            "c_steervis": t_c / prompts, "d_prompt_pass": t_d / prompts},
           "prompts_timed": {"a": n_a, "b": n_b, "c": prompts, "d": prompts},
           "max_abs_diff": {"a_vs_c": float(np.abs(a - ours[:n_a]).max()),
                            "b_vs_c": float(np.abs(b - ours[:n_b]).max())}}
    s = row["s_per_prompt"]
    row["c_speed_vs_d"] = s["d_prompt_pass"] / s["c_steervis"]
    row["c_speedup_vs_a"] = s["a_full_forward"] / s["c_steervis"]
    row["c_speedup_vs_b"] = s["b_per_class_cache"] / s["c_steervis"]
    return {key: round_floats(v) for key, v in row.items()}


def round_floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: round_floats(v) for k, v in value.items()}
    return float(f"{value:.4g}") if isinstance(value, float) else value  # significant digits: diffs are ~1e-6
