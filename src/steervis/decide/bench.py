"""``steervis bench score``: exact class scoring against the peers' strategies, on VLLaVO prompts.

Four strategies on the same prompts, one table:

* (a) ``full-forward``: one full forward per (prompt, class), batched, as lm-evaluation-harness / lmms-eval;
* (b) ``per-class-cache``: the prompt once, each class alone over a copy of its KV cache, as VLMClassifier;
* (c) ``steervis``: the prompt once, all classes as one prefix tree over the cache (:mod:`steervis.lm.scoring`);
* (d) ``prompt-pass``: steervis' prompt pass alone, same batch size: the floor (c) cannot beat.

Label spaces are given by the caller (``steervis bench score`` passes minidomains' 34 classes and 345 ImageNet
names, DomainNet's size), VLLaVO's template listing every option.

    steervis bench score                                # both sizes, smollm2-135m-instruct
    steervis bench score --opt sizes=[34] --opt prompts=4
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

DESCRIPTIONS = [  # ConSE-style descriptions, as describe-offline renders them
    "Tags:\n- golden retriever\n- Labrador retriever\n- kuvasz\n- tennis ball\n- dog\nAttributes:\n- furry\n"
    "- floppy ears\n- four legs\n- a wet nose",
    "Tags:\n- sports car\n- convertible\n- racer\n- grille\n- car wheel\nAttributes:\n- shiny\n- red paint\n"
    "- four wheels\n- low body",
    "Tags:\n- banana\n- plantain\n- lemon\n- corn\n- spaghetti squash\nAttributes:\n- yellow\n- curved\n"
    "- smooth peel\n- a stalk",
    "Tags:\n- acoustic guitar\n- electric guitar\n- banjo\n- violin\n- cello\nAttributes:\n- wooden body\n"
    "- six strings\n- a long neck\n- a sound hole",
    "Tags:\n- hook\n- jigsaw puzzle\n- mask\n- envelope\n- web site\nAttributes:\n- flat colours\n"
    "- black outline\n- round shape\n- a cartoon face",
    "Tags:\n- great grey owl\n- kite\n- bald eagle\n- ruffed grouse\n- partridge\nAttributes:\n- feathers\n"
    "- large eyes\n- a hooked beak\n- talons",
    "Tags:\n- mobile home\n- boathouse\n- barn\n- church\n- palace\nAttributes:\n- a pitched roof\n- windows\n"
    "- a front door\n- a chimney",
    "Tags:\n- pizza\n- bagel\n- pretzel\n- French loaf\n- plate\nAttributes:\n- round\n- melted cheese\n"
    "- tomato sauce\n- a crust",
]


def imagenet_names(k: int, seed: int = 0) -> list[str]:
    """``k`` distinct ImageNet class names (first lemma), sampled with ``seed``."""
    from steervis.zoo.embedded import imagenet_class_names

    every = imagenet_class_names()
    names: list[str] = []
    for i in np.random.default_rng(seed).permutation(len(every)):
        name = every[int(i)]
        if name not in names:
            names.append(name)
        if len(names) == k:
            return names
    raise ValueError(f"only {len(names)} distinct names")


def _timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def bench_score(label_spaces: dict[str, list[str]], model: str = "smollm2-135m-instruct", prompts: int = 8,
                batch_size: int = 8, threads: int | None = None) -> dict[str, Any]:
    """Seconds per prompt of strategies a-d for each named label space, and the largest score difference."""
    import torch

    from steervis import zoo
    from steervis.decide.template import PromptBuilder
    from steervis.lm.batch import Prompt
    from steervis.lm.model import LanguageModel
    from steervis.lm.reference import full_forward_loglik, per_class_cache_loglik
    from steervis.lm.scoring import loglik

    if threads:
        torch.set_num_threads(threads)
    lm = LanguageModel(zoo.load(model, kind="causal-lm"))
    result: dict[str, Any] = {"model": model, "batch_size": batch_size, "torch_threads": torch.get_num_threads()}
    for space, classes in label_spaces.items():
        k = len(classes)
        builder = PromptBuilder(kind="vllavo", tokenizer=lm.tokenizer, max_length=4096, seed=0)
        texts = (DESCRIPTIONS * (prompts // len(DESCRIPTIONS) + 1))[:prompts]
        batch = [Prompt(lm.encode(p)) for p in builder.build(texts, classes)]
        answers = [builder.answer(c) for c in classes]
        loglik(lm, batch[:1], answers)  # warm-up: allocator, thread pools
        # The peers are slow at 345 classes: time them on fewer prompts (the per-prompt cost is what counts).
        n_a = prompts if k <= 64 else 1
        n_b = prompts if k <= 64 else min(2, prompts)
        (ours, _), t_c = _timed(loglik, lm, batch, answers, batch_size=batch_size)
        _, t_d = _timed(_prompt_passes, lm, batch, batch_size)
        a, t_a = _timed(full_forward_loglik, lm, batch[:n_a], answers, batch_size=batch_size)
        b, t_b = _timed(per_class_cache_loglik, lm, batch[:n_b], answers)
        row = {"classes": k, "label_space": space, "prompt_tokens": round(float(np.mean([len(p.ids) for p in batch])), 1),
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
        result[space] = {key: _round(v) for key, v in row.items()}
    return result


def _prompt_passes(lm: Any, batch: list[Any], batch_size: int) -> None:
    import torch

    with torch.inference_mode():
        for start in range(0, len(batch), batch_size):
            _, last, _ = lm.prompt_pass(batch[start : start + batch_size], cache=True)
            lm.head_logprobs(last)


def _round(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return float(f"{value:.4g}") if isinstance(value, float) else value  # significant digits: diffs are ~1e-6
