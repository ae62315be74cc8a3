"""Benchmark: exact class scoring vs beam-search generation on the same adapter and the same images.

Descriptions come from the describe store (computed once); only the decide step is timed. Prints one JSON
object with accuracy and images/s per mode.

    steervis bench decide-modes --set adapter=runs/pc --set data=~/.cache/steervis/data/minidomains \\
        --set domains=sketch --set limit=40
"""

from __future__ import annotations

import time
from typing import Any


def compare_modes(adapter: str, data: str, domains: list[str], limit: int | None = None,
                  seed: int = 0) -> dict[str, Any]:
    """Accuracy and images/s of ``score`` and ``generate`` on ``domains`` of ``data`` (``limit`` images,
    a fixed class-stratified subset)."""
    import numpy as np

    from steervis.data import load_folder
    from steervis.methods.texts import describe_config, describe_texts
    from steervis.vllavo.decide.decider import Decider

    decider = Decider.load(adapter)
    frame = load_folder(data, domains=domains).frame
    frame = frame[frame["class"].isin(decider.classes)].reset_index(drop=True)
    if limit and len(frame) > limit:
        frame = frame.sample(n=limit, random_state=seed).sort_index().reset_index(drop=True)
    texts = describe_texts(describe_config(decider.card.decider.describe), decider.config.components,
                           progress=False)(frame)
    truth = np.array([decider.classes.index(c) for c in frame["class"]])
    out: dict[str, Any] = {"adapter": adapter, "domains": domains, "images": len(frame),
                           "classes": len(decider.classes)}
    for mode in ("score", "generate"):
        start = time.perf_counter()
        pred = decider.predict_proba(texts, mode=mode).argmax(1)
        seconds = time.perf_counter() - start
        out[mode] = {"accuracy": round(float((pred == truth).mean()), 4), "seconds": round(seconds, 1),
                     "images_per_s": round(len(frame) / seconds, 3)}
    out["speedup"] = round(out["score"]["images_per_s"] / out["generate"]["images_per_s"], 1)
    return out


def score_strategies(sizes: list[int] | tuple[int, ...] = (34, 345), mode: str = "text",
                     data: str | None = None, seed: int = 0, **options: Any) -> dict[str, Any]:
    """``steervis bench score``: minidomains' class names (34) and ImageNet names (any other size).

    ``mode=text``: VLLaVO prompts on a causal LM (``model``, default smollm2-135m-instruct); ``mode=image``:
    an image (seeded minidomains images, or the folder ``data``) + the question listing the options, through a
    VLM (``model``, default stage2).
    """
    from steervis.data.minidomains import load_sources
    from steervis.errors import SteervisError
    from steervis.vllavo.decide.bench import bench_score, imagenet_names

    mini = sorted(load_sources())
    spaces = {(f"minidomains_{k}" if k == len(mini) else f"imagenet_{k}"): (mini if k == len(mini) else
                                                                          imagenet_names(k)) for k in sizes}
    if mode == "text":
        return bench_score(spaces, **options)
    if mode != "image":
        raise SteervisError(f"bench score: mode must be text or image, not {mode!r}.")
    from steervis.data import load_folder, minidomains_root
    from steervis.llava.bench import bench_score_images

    frame = load_folder(data or minidomains_root(), progress=False).frame
    paths = frame.sample(n=min(len(frame), options.get("prompts", 8)), random_state=seed)["path"].tolist()
    return bench_score_images(spaces, paths, **options)


def decide_modes(adapter: str, data: str, domains: str | list[str],
                 limit: int | None = None) -> dict[str, Any]:
    """``steervis bench decide-modes``: ``domains`` may be comma-separated."""
    return compare_modes(adapter, data, domains.split(",") if isinstance(domains, str) else domains, limit)


def react_zeroshot(k: int = 50, mode: str = "t2t", data: str | None = None,
                   bases: str | list[str] = "conse") -> dict[str, Any]:
    """``steervis bench react-zeroshot``: zero-shot accuracy per domain of each base (``bases``,
    comma-separated: conse, conse-lite2, a CLIP id), REACT on it (``react`` for conse, ``react[<base>]``
    otherwise) and react-pool, on the same images in one run, with 95 % intervals and paired differences
    against conse."""
    import numpy as np

    from steervis.card import has_card
    from steervis.data import load_folder, minidomains_root
    from steervis.matchers.features import image_embeddings
    from steervis.matchers.prompts import STYLE_TEMPLATES, class_embeddings
    from steervis.react.bases import REACT_BASES
    from steervis.react.build import react_for, react_pool_dir
    from steervis.react.matchers import ReactMatcher, load_customized
    from steervis.stats import accuracy_ci, paired_difference_ci, percent

    bases = [b.strip() for b in bases.split(",")] if isinstance(bases, str) else list(bases)
    bases = ["conse", *[b for b in bases if b != "conse"]]  # conse is the reference of every difference
    frame = load_folder(data or minidomains_root()).frame
    classes = sorted(frame["class"].unique())
    truth = frame["class"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    paths, keys = frame["path"].tolist(), frame["sha256"].tolist()
    correct: dict[str, np.ndarray] = {}

    def score(name: str, matcher: Any, images: np.ndarray) -> None:
        # a locked text side: the base's texts
        texts = class_embeddings(classes, STYLE_TEMPLATES, matcher.encode_texts)
        correct[name] = (images @ texts.T).argmax(1) == truth

    for name in bases:
        base = REACT_BASES.build(name)
        matcher = base.matcher()
        score(name, matcher, image_embeddings(matcher, paths, keys))
        if name == "conse" and has_card(react_pool_dir()):
            pool = ReactMatcher(react_pool_dir())
            score("react-pool", pool, base.embed(pool, frame))
        react = load_customized(react_for(classes, k=k, mode=mode, base=name), name="react")
        score("react" if name == "conse" else f"react[{name}]", react, base.embed(react, frame))
    out: dict[str, Any] = {"classes": len(classes), "images": len(frame), "k": k, "mode": mode, "domains": {}}
    for domain in sorted(frame["domain"].unique()):
        rows = (frame["domain"] == domain).to_numpy()
        out["domains"][domain] = {name: percent(accuracy_ci(c[rows])) for name, c in correct.items()}
        for name in [n for n in correct if n != "conse"]:
            out["domains"][domain][f"{name} - conse"] = percent(paired_difference_ci(correct[name][rows],
                                                                                  correct["conse"][rows]))
    domains = sorted(out["domains"])
    out["mean_over_domains"] = {
        name: round(100 * float(np.mean([correct[name][(frame["domain"] == d).to_numpy()].mean()
                                         for d in domains])), 1)
        for name in correct}
    return out


