"""The image mode of ``steervis bench score``: strategies a-d with an image prefix spliced through the VLM.

Each prompt is one image and the classification question listing every option (the closed form, as the text
mode's VLLaVO template lists them); candidates are the class names. Timed by
:func:`steervis.lm.bench.time_strategies`: (a) re-encodes the image for every class (as lmms-eval does), (b)
encodes it once and copies the KV cache per class (VLMClassifier), (c) is steervis' prefix tree, (d) the
prompt pass alone. The tower's features are computed before timing: every strategy reads the same tokens.

    steervis bench score --set mode=image --set sizes=[34] --set prompts=8       # stage2 on minidomains

>>> from steervis.llava.bench import bench_score_images
>>> bench_score_images({"toy": ["cat", "dog"]}, [image], model="tiny-llava")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def bench_score_images(label_spaces: dict[str, list[str]], images: Sequence[Any], model: str = "stage2",
                       prompts: int = 8, batch_size: int = 8, threads: int | None = None,
                       listed: bool = True) -> dict[str, Any]:
    """Seconds per image prompt of strategies a-d for each named label space, and the largest score
    difference.

    Args:
        label_spaces: Name → class names.
        images: PIL images or paths; the first ``prompts`` are used (cycled if fewer).
        model: A VLM name (``stage2``, a saved folder, ``tiny-llava``, a hub Llava id).
        listed: List the options in the question (else VLMClassifier's open question).
    """
    import torch

    from steervis.errors import SteervisError
    from steervis.llava.model import CLASSIFY_QUESTION, closed_question, open_vlm
    from steervis.lm.bench import time_strategies

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
