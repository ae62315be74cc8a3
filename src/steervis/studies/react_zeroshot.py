"""``steervis study react-zeroshot``: zero-shot accuracy per domain of each matcher, of REACT customized on it
for the task's classes, and of react-pool (REACT on the whole knowledge pool), on the same images in one run,
with 95 % intervals and paired differences against ConSE.

    steervis study react-zeroshot --set k=50 --set mode=t2t
    steervis study react-zeroshot --set 'bases=[conse,conse-lite2]'
"""

from __future__ import annotations

from typing import Any


def react_zeroshot(k: int = 50, mode: str = "t2t", data: str | None = None,
                   bases: str | list[str] = "conse") -> dict[str, Any]:
    """Zero-shot accuracy per domain of each base (``bases``, comma-separated: conse, conse-lite2, a CLIP id),
    REACT on it (``react`` for conse, ``react[<base>]`` otherwise) and react-pool, on the same images, with
    95 % intervals and paired differences against conse."""
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
