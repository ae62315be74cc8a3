"""STIC's preference pairs from unlabelled images: the model's own descriptions, a good one and a bad one.

Per image, the preferred description answers a step-by-step prompt (name each object, then its colour, then
where it is) on the clean image. The dis-preferred one is written, for a seeded half of the images, under a
prompt that invites objects the image lacks (on the clean image), and for the other half under the plain
prompt on a corrupted copy (colour jitter or downscaling, :mod:`steervis.stic.images`). In training both are
answers to the same plain prompt, :data:`PLAIN_PROMPT`, on the clean image: the model learns to prefer what
it writes when it looks carefully over what it writes when it imagines or cannot see.

>>> plan_rejections(4, seed=0).count("prompt")
2
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from steervis.errors import SteervisError
from steervis.stic.images import CORRUPTIONS, Source, corrupt

PLAIN_PROMPT = "Explain what is depicted in the image."
# The preferred description: one step per thing the scenes' truth can check (objects, colours, places).
GOOD_PROMPT = ("Describe the image step by step. First, name every object you can see. Next, give the colour "
               "of each object. Then say where each object is in the picture. Mention only what is shown.")
# The dis-preferred description under a prompt: invited to add what is not there (STIC's idea, our words).
MISLEADING_PROMPTS = (
    "Describe the image, adding objects that would fit in it even though they are not shown.",
    "Describe the image and include a few things that could be just outside it, as if they were in it.",
    "Describe the image with imagined objects and colours that might belong there. State them as facts.",
    "Describe the image, inventing everyday objects that could be part of it.",
)
PROMPTED = "prompt"  # how a dis-preferred description was written when no corruption was used


@dataclass
class Pair:
    """One image's preferred (``chosen``) and dis-preferred (``rejected``) descriptions.

    Attributes:
        path: The image file (clean; a corrupted copy is never stored).
        origin: ``pool`` or ``scene``.
        scene: The train split's scene index, for a scene.
        chosen: The description under :data:`GOOD_PROMPT` on the clean image.
        rejected: The dis-preferred description.
        how: ``prompt`` (a misleading prompt, clean image), ``jitter`` or ``downscale`` (the plain prompt on
            a corrupted copy).
        rejected_prompt: The prompt the dis-preferred description answered.
        model: The name of the model that wrote both ("": not recorded).
    """

    path: str
    origin: str
    scene: int | None
    chosen: str
    rejected: str
    how: str
    rejected_prompt: str
    model: str = ""


def plan_rejections(n: int, seed: int = 0) -> list[str]:
    """How each of ``n`` dis-preferred descriptions is written: a seeded half (``n // 2``) under a misleading
    prompt, the rest on a corrupted copy, each corruption drawn with equal chance."""
    rng = np.random.default_rng(seed)
    kinds = [PROMPTED] * (n // 2) + [str(c) for c in rng.choice(list(CORRUPTIONS), n - n // 2)]
    return [kinds[i] for i in rng.permutation(n)]


def make_pairs(vlm: Any, sources: Sequence[Source], max_new_tokens: int = 96, temperature: float = 0.2,
               batch_size: int = 8, seed: int = 0, progress: bool = True) -> list[Pair]:
    """Describe every image twice with ``vlm`` (:class:`steervis.zoo.vlms.VisionLanguageModel`).

    Args:
        vlm: The model being self-trained.
        sources: Unlabelled images (:func:`steervis.stic.images.pool_images`, ``training_scenes``).
        max_new_tokens: Longest description.
        temperature: Sampling temperature (0: greedy).
        batch_size: Images per generation batch.
        seed: The half under a misleading prompt, the prompts, the corruptions and the sampling.
        progress: Show a progress bar.
    """
    from tqdm.auto import tqdm

    from steervis.data.images import open_image

    if not sources:
        raise SteervisError("No images to describe: set pool_images or scene_images above 0.")
    hows = plan_rejections(len(sources), seed)
    rng = np.random.default_rng(seed + 1)
    prompts = [str(rng.choice(MISLEADING_PROMPTS)) if how == PROMPTED else PLAIN_PROMPT for how in hows]
    options = {"max_new_tokens": max_new_tokens, "batch_size": batch_size, "seed": seed}
    options |= {"sample": True, "temperature": temperature} if temperature > 0 else {}
    pairs = []
    starts = range(0, len(sources), batch_size)
    for start in tqdm(starts, desc="stic pairs", unit="batch", disable=not progress):
        part = range(start, min(start + batch_size, len(sources)))
        clean = [sources[i].path for i in part]
        shown = [clean[k] if hows[i] == PROMPTED
                 else corrupt(open_image(clean[k]), hows[i], np.random.default_rng([seed, i]))
                 for k, i in enumerate(part)]
        chosen = vlm.ask(clean, [GOOD_PROMPT] * len(clean), **options)
        rejected = vlm.ask(shown, [prompts[i] for i in part], **options)
        pairs += [Pair(sources[i].path, sources[i].origin, sources[i].scene, c, r, hows[i], prompts[i])
                  for i, c, r in zip(part, chosen, rejected, strict=True)]
    return pairs


def write_pairs(pairs: Sequence[Pair], path: str | Path) -> Path:
    """One JSON object per line, written atomically."""
    from steervis.atomic import write_text

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, "".join(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in pairs))
    return path


def read_pairs(path: str | Path) -> list[Pair]:
    """Pairs written by :func:`write_pairs`; a damaged or foreign file is one sentence."""
    path = Path(path)
    if not path.is_file():
        raise SteervisError(f"No pairs at {path}: run `steervis stic pairs` first.")
    try:
        return [Pair(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    except (ValueError, TypeError) as err:
        raise SteervisError(f"{path} holds no STIC pairs ({err}): write it again with `steervis stic "
                            "pairs`.") from None


def collect_pairs(vlm: Any, cfg: Any, progress: bool = True, pool_root: str | Path | None = None,
                  scenes_root: str | Path | None = None) -> list[Pair]:
    """Pairs on ``cfg.pool_images`` pool images and ``cfg.scene_images`` training scenes
    (:class:`~steervis.stic.config.SticConfig`)."""
    from steervis.stic.images import pool_images, training_scenes

    sources = (pool_images(cfg.pool_images, cfg.seed, pool_root)
               + training_scenes(cfg.scene_images, cfg.seed, scenes_root))
    made = make_pairs(vlm, sources, cfg.max_new_tokens, cfg.temperature, cfg.batch_size, cfg.seed, progress)
    for pair in made:
        pair.model = str(cfg.model)
    return made


def check_written_by(pairs: Sequence[Pair], model: str) -> None:
    """STIC trains the model on its own descriptions: pairs another model wrote are refused."""
    others = sorted({p.model for p in pairs if p.model and p.model != str(model)})
    if others:
        raise SteervisError(f"These pairs were written by {', '.join(others)}, not {model}: STIC trains the "
                            f"model that wrote them (--model {others[0]}), or write pairs with --model "
                            f"{model}.")
