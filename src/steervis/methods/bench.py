"""Throughput of the deciding step: ``steervis bench score`` and ``steervis bench decide-modes``.

``score`` times four class-scoring strategies on the same prompts, one label space at a time:

* (a) ``full-forward``: one full forward per (prompt, class), batched, as lm-evaluation-harness and lmms-eval
  score multiple choice (with an image: re-encoded for every class);
* (b) ``per-class-cache``: the prompt once, each class alone over a copy of its KV cache, as VLMClassifier
  (Zhang et al.);
* (c) ``steervis``: the prompt once, all classes as one prefix tree over the cache
  (:mod:`steervis.lm.scoring`);
* (d) ``prompt-pass``: the prompt pass alone, same batch size: the floor (c) cannot beat.

``mode=text`` builds VLLaVO prompts (its template listing every option) for a causal LM; ``mode=image`` one
image and the question listing every option, through a VLM, with the tower's features computed before timing
(every strategy reads the same tokens). The label spaces are minidomains' 34 class names and, for any other
size, ImageNet names (345 is DomainNet's size).

``decide-modes`` times describe-decide's decider on one adapter and the same images: exact class scoring
against beam-search generation (descriptions come from the describe store; only deciding is timed), and says
how often the two answer the same class. Their accuracy over every held-out domain is an evaluate run with
``also: [generate]`` on the describe-decide row, compared by ``steervis study paired``.

    steervis bench score                                                  # both sizes, smollm2-135m-instruct
    steervis bench score --set mode=image --set 'sizes=[34]' --set prompts=8    # stage2 on minidomains
    steervis bench decide-modes --set adapter=runs/pc --set data=~/.cache/steervis/data/minidomains \\
        --set domains=sketch --set limit=40

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
    "Tags:\n- mobile home\n- boathouse\n- barn\n- church\n- palace\nAttributes:\n- a pitched roof\n"
    "- windows\n- a front door\n- a chimney",
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


def score_strategies(sizes: list[int] | tuple[int, ...] = (34, 345), mode: str = "text",
                     data: str | None = None, seed: int = 0, **options: Any) -> dict[str, Any]:
    """``steervis bench score``: label spaces of ``sizes`` classes, timed in text or image ``mode``.

    ``mode=text``: VLLaVO prompts on a causal LM (``model``, default smollm2-135m-instruct); ``mode=image``:
    an image (seeded minidomains images, or the folder ``data``) + the question listing the options, through a
    VLM (``model``, default stage2).
    """
    from steervis.data.minidomains import load_sources
    from steervis.errors import SteervisError

    mini = sorted(load_sources())
    spaces = {(f"minidomains_{k}" if k == len(mini) else f"imagenet_{k}"): (mini if k == len(mini) else
                                                                          imagenet_names(k)) for k in sizes}
    if mode == "text":
        return score_texts(spaces, **options)
    if mode != "image":
        raise SteervisError(f"bench score: mode must be text or image, not {mode!r}.")
    from steervis.data import load_folder, minidomains_root

    frame = load_folder(data or minidomains_root(), progress=False).frame
    paths = frame.sample(n=min(len(frame), options.get("prompts", 8)), random_state=seed)["path"].tolist()
    return score_images(spaces, paths, **options)


# -- the score benchmark's two prompt kinds ---------------------------------------------------------------
def score_texts(label_spaces: dict[str, list[str]], model: str = "smollm2-135m-instruct", prompts: int = 8,
                batch_size: int = 8, threads: int | None = None) -> dict[str, Any]:
    """Text mode: seconds per VLLaVO prompt of strategies a-d for each named label space."""
    import torch

    from steervis import zoo
    from steervis.lm.batch import Prompt
    from steervis.lm.model import LanguageModel
    from steervis.vllavo.decide.template import PromptBuilder

    if threads:
        torch.set_num_threads(threads)
    lm = LanguageModel(zoo.load(model, kind="causal-lm"))
    result: dict[str, Any] = {"model": model, "batch_size": batch_size,
                              "torch_threads": torch.get_num_threads()}
    for space, classes in label_spaces.items():
        builder = PromptBuilder(kind="vllavo", tokenizer=lm.tokenizer, max_length=4096, seed=0)
        texts = (DESCRIPTIONS * (prompts // len(DESCRIPTIONS) + 1))[:prompts]
        batch = [Prompt(lm.encode(p)) for p in builder.build(texts, classes)]
        result[space] = time_strategies(lm, batch, [builder.answer(c) for c in classes], batch_size, space)
    return result


def score_images(label_spaces: dict[str, list[str]], images: Sequence[Any], model: str = "stage2",
                 prompts: int = 8, batch_size: int = 8, threads: int | None = None,
                 listed: bool = True) -> dict[str, Any]:
    """Image mode: seconds per image prompt of strategies a-d for each named label space.

    Args:
        label_spaces: Name → class names.
        images: PIL images or paths; the first ``prompts`` are used (cycled if fewer).
        model: A VLM name (``stage2``, a saved folder, ``tiny-llava``, a hub Llava id).
        listed: List the options in the question (else VLMClassifier's open question).
    """
    import torch

    from steervis.errors import SteervisError
    from steervis.llava.model import CLASSIFY_QUESTION, closed_question
    from steervis.llava.vlms import open_vlm

    if not images:
        raise SteervisError("The image mode of bench score needs at least one image.")
    if threads:
        torch.set_num_threads(threads)
    vlm = open_vlm(model)
    chosen = [images[i % len(images)] for i in range(prompts)]
    visuals = vlm.visual(chosen)  # tower features once, outside the timed part
    result: dict[str, Any] = {"model": str(model), "mode": "image", "batch_size": batch_size,
                              "image_tokens": vlm.image_tokens, "torch_threads": torch.get_num_threads()}
    for space, classes in label_spaces.items():
        question = closed_question(classes) if listed else CLASSIFY_QUESTION
        batch = vlm.prompts([question] * len(visuals), visuals)
        result[space] = time_strategies(vlm.lm, batch, list(classes), batch_size, space)
    return result


# -- the timing core ------------------------------------------------------------------------------------
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


# -- decide-modes -------------------------------------------------------------------------------------
def decide_modes(adapter: str, data: str, domains: str | list[str], limit: int | None = None,
                 seed: int = 0) -> dict[str, Any]:
    """``steervis bench decide-modes``: images/s of ``score`` and ``generate`` on ``domains`` (comma-separated
    in a string) of ``data``, at most ``limit`` images (a seeded subset), and the share of images on which the
    two answer the same class."""
    from steervis.data import load_folder
    from steervis.methods.texts import describe_config, describe_texts
    from steervis.vllavo.decide.decider import Decider

    domains = domains.split(",") if isinstance(domains, str) else list(domains)
    decider = Decider.load(adapter)
    frame = load_folder(data, domains=domains).frame
    frame = frame[frame["class"].isin(decider.classes)].reset_index(drop=True)
    if limit and len(frame) > limit:
        frame = frame.sample(n=limit, random_state=seed).sort_index().reset_index(drop=True)
    texts = describe_texts(describe_config(decider.card.decider.describe), decider.config.components,
                           progress=False)(frame)
    out: dict[str, Any] = {"adapter": adapter, "domains": domains, "images": len(frame),
                           "classes": len(decider.classes)}
    answers = {}
    for mode in ("score", "generate"):
        start = time.perf_counter()
        answers[mode] = decider.predict_proba(texts, mode=mode).argmax(1)
        seconds = time.perf_counter() - start
        out[mode] = {"seconds": round(seconds, 1), "images_per_s": round(len(frame) / seconds, 3)}
    out["speedup"] = round(out["score"]["images_per_s"] / out["generate"]["images_per_s"], 1)
    out["same_answer"] = round(float((answers["score"] == answers["generate"]).mean()), 4)
    return out
