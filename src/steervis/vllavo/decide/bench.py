"""``steervis bench score``: exact class scoring against the peers' strategies, on VLLaVO prompts.

Four strategies on the same prompts, one table (timed by :func:`steervis.lm.bench.time_strategies`): (a) a
full forward per (prompt, class), (b) a per-class copy of the prompt's KV cache, (c) steervis' prefix tree
over one cache, (d) the prompt pass alone. The image mode (``--set mode=image``) is
:mod:`steervis.llava.bench`.

Label spaces are given by the caller (``steervis bench score`` passes minidomains' 34 classes and 345 ImageNet
names, DomainNet's size), VLLaVO's template listing every option.

    steervis bench score                                # both sizes, smollm2-135m-instruct
    steervis bench score --set sizes=[34] --set prompts=4
"""

from __future__ import annotations

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


def bench_score(label_spaces: dict[str, list[str]], model: str = "smollm2-135m-instruct", prompts: int = 8,
                batch_size: int = 8, threads: int | None = None) -> dict[str, Any]:
    """Seconds per prompt of strategies a-d for each named label space, and the largest score difference."""
    import torch

    from steervis import zoo
    from steervis.lm.batch import Prompt
    from steervis.lm.bench import time_strategies
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
