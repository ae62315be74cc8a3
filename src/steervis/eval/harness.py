"""The evaluation harness: every method on the same splits, sharing one cache, into one run folder.

A run folder holds ``config.yaml`` (resolved), ``describe.yaml`` (the describer every method shared),
``methods.yaml`` (each method's resolved options; describe-decide's resolved ``DecideConfig`` too),
``metrics.json``, ``predictions.parquet`` and ``report.html``.
Each (split, method) result is written to ``parts/`` as soon as it is done, so a killed run resumes where it
stopped; the result files are published together, with the completion stamp last (``steervis.outputs``), while
the run folder's lock keeps a second writer out. The detection protocol scores grounders instead of methods,
in the same kind of run folder (:mod:`steervis.eval.detection`).

>>> from steervis.eval import EvaluateConfig, evaluate
>>> result = evaluate(EvaluateConfig(data="toy", runs=[{"method": "zeroshot"}]))  # doctest: +SKIP
>>> print(result.markdown)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis import __version__
from steervis.atomic import write_text
from steervis.config import config_hash, save_config, to_dict
from steervis.disk import check_writable, output_lock
from steervis.errors import SteervisError
from steervis.eval.config import EvaluateConfig, UDAConfig  # noqa: F401  (re-exported)
from steervis.eval.method_runs import MethodRun, resolve_methods
from steervis.eval.metrics import accuracy_table, interval_table, markdown_interval_table, markdown_table
from steervis.eval.protocols import PROTOCOLS, Split, check_splits
from steervis.eval.run_folder import (
    RUN_SPACE,
    check_run_dir,
    part_key,
    part_name,
    read_part,
    run_dir_for,
    run_parts,
    staged_run,
    write_methods_yaml,
    write_part,
)
from steervis.identity import source_commit

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    run_dir: Path
    table: pd.DataFrame
    predictions: pd.DataFrame
    markdown: str
    metrics: dict[str, Any]
    # the run folder's interval table, and what it holds intervals for
    intervals: tuple[str, str] = ("accuracy_ci95.md", "per domain and for the mean")


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def open_run_task(cfg: EvaluateConfig, progress: bool = True) -> Any:
    """The run's task (:func:`steervis.methods.task.open_task`): its folder, subset and decoded images."""
    from steervis.methods.task import open_task

    task = open_task(cfg.data, domains=cfg.domains, classes=cfg.classes, max_per_class=cfg.max_per_class,
                     follow_links=cfg.follow_links, progress=progress, check_progress=False)
    for path, reason in task.folder.skipped:
        log.warning("skipped %s: %s", path, reason)
    return task


def build_context(cfg: EvaluateConfig, task: Any):
    from steervis.methods.context import MethodContext

    return MethodContext(describe=task.describer(cfg.describe), components=tuple(cfg.components) or None,
                         progress=task.progress, images=task.images)




def prediction_rows(method: str, split: Split, proba: np.ndarray, classes: list[str],
                    texts: list[str] | None) -> pd.DataFrame:
    order = np.argsort(-proba, axis=1)[:, :3]
    return pd.DataFrame({
        "method": method, "split": split.name, "path": split.test["path"].to_numpy(),
        "sha256": split.test["sha256"].to_numpy(),  # what `study paired` pairs on: the image, not its path
        "domain": split.test["domain"].to_numpy(), "class": split.test["class"].to_numpy(),
        "pred": [classes[i] for i in proba.argmax(axis=1)],
        "confidence": proba.max(axis=1),
        "top3": [json.dumps([[classes[j], round(float(p[j]), 4)] for j in o])
                 for p, o in zip(proba, order, strict=True)],
        "description": texts if texts is not None else [""] * len(split.test),
    })


def with_sha256(rows: pd.DataFrame, split: Split) -> pd.DataFrame:
    """A part written before predictions carried each image's sha256 gets it from its split (the part's key
    fixes path → sha256), so a rerun rewrites predictions.parquet with it and recomputes nothing."""
    if "sha256" in rows:
        return rows
    sha256 = dict(zip(split.test["path"], split.test["sha256"], strict=True))
    return rows.assign(sha256=rows["path"].map(sha256))


def run_method(name: str, split: Split, classes: list[str], context, cfg: EvaluateConfig,
               options: Any = None, method_name: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Fit one method on the split's train part and predict its test part; UDA methods may adapt first.

    ``name`` labels the rows; ``method_name`` is the registered method when ``name`` is a labelled variant."""
    from steervis.methods import build_method, has_capability

    seed_everything(cfg.seed)
    method_name = method_name or name
    method = build_method(method_name, context, options)
    start = time.perf_counter()
    method.fit(split.train, classes)
    fit_s = time.perf_counter() - start
    info: dict[str, Any] = {"fit_s": round(fit_s, 2), "commit": source_commit()}
    if PROTOCOLS.meta(cfg.protocol).get("adapt") and has_capability(method, "adapt"):
        # Target labels go in only for logging per-round accuracy; adapt never selects on them.
        info["rounds"] = method.adapt(split.test, rounds=cfg.uda.rounds, labels=split.test["class"].tolist())
    proba, timing = timed_predict(name, method.predict_proba, split.test, len(classes))
    info.update(timing)
    if has_capability(method, "diagnostics"):  # e.g. how often a VLM's answer named several classes
        info["diagnostics"] = method.diagnostics()
    texts = context.describe_texts(split.test) if context.has_descriptions() else None
    rows = [prediction_rows(name, split, proba, classes, texts)]
    if getattr(method, "config", None) is not None:  # the resolved DecideConfig, for the run folder
        info["resolved"] = to_dict(method.config)
    # Variants (e.g. describe-decide's generate mode) reuse the fitted model: same adapter, same images.
    variants = method.variants() if has_capability(method, "variants") else {}
    for suffix, predict in variants.items():
        variant = f"{name} ({suffix})"
        variants = info.setdefault("variants", {})
        extra, variants[suffix] = timed_predict(variant, predict, split.test, len(classes))
        rows.append(prediction_rows(variant, split, extra, classes, texts))
    return pd.concat(rows, ignore_index=True), info


def timed_predict(name: str, predict, items: pd.DataFrame,
                  n_classes: int) -> tuple[np.ndarray, dict[str, Any]]:
    """``predict(items)`` as a checked ``[n, k]`` array, with its seconds and images/s."""
    start = time.perf_counter()
    proba = np.asarray(predict(items), dtype=float)
    seconds = time.perf_counter() - start
    if proba.shape != (len(items), n_classes):
        raise SteervisError(f"{name} returned probabilities of shape {proba.shape}, expected "
                            f"{(len(items), n_classes)}.")
    return proba, {"predict_s": round(seconds, 3),
                   # None: too fast
                   "images_per_s": round(len(items) / seconds, 1) if seconds > 1e-3 else None}


def evaluate(cfg: EvaluateConfig, progress: bool = True) -> RunResult:
    """Run every method on every split of the protocol; write metrics, predictions and the report."""
    protocol = PROTOCOLS.get(cfg.protocol)  # a misspelt protocol, method or option fails before any work
    if Path(cfg.out).exists() and not Path(cfg.out).is_dir():
        raise SteervisError(f"out {cfg.out} is a file: give a folder for the run folders "
                            "(or remove the file).")
    whole_run = PROTOCOLS.meta(cfg.protocol).get("frame") is False  # detection: no frame to split
    options = {} if whole_run else resolve_methods(cfg)
    run_dir = run_dir_for(cfg)
    check_run_dir(run_dir, cfg)
    check_writable(run_dir, RUN_SPACE, "the run folder")
    # one writer per run folder, from the data check to the published report
    with output_lock(run_dir, flag="run folder"):
        if whole_run:
            return protocol(cfg, run_dir, progress)
        return run_locked(cfg, run_dir, protocol, options, progress)


def run_locked(cfg: EvaluateConfig, run_dir: Path, protocol: Any, options: dict[str, MethodRun],
               progress: bool) -> RunResult:
    task = open_run_task(cfg, progress)
    for run in options.values():  # class tags and the react matcher read this task's class names
        run.describe = task.describer(run.describe)
    splits = check_splits(protocol(task.frame, cfg))
    return run_splits(cfg, run_dir, splits, task, options)


def run_splits(cfg: EvaluateConfig, run_dir: Path, splits: list[Split], task: Any,
               options: dict[str, MethodRun]) -> RunResult:
    """Each (split, method) part computed or read back, then the run folder's results published at once."""
    from steervis.eval.report import write_report
    from steervis.outputs import write_stamp

    # claimed first, so a rerun after a kill may resume it
    if not run_dir.is_dir() or not any(run_dir.iterdir()):
        run_dir.mkdir(parents=True, exist_ok=True)
        write_stamp(run_dir, "run", config_hash(cfg), state="started", files=["parts"])
    parts = run_parts(run_dir)
    frame, classes = task.frame, task.classes
    context = build_context(cfg, task)
    contexts: dict[Any, Any] = {}  # one per (describer, components): variants share models and features
    frames, infos = [], {}
    for split in splits:
        for name, run in options.items():
            part = part_name(split, name, part_key(cfg, split, run, classes))
            found = read_part(parts, part)
            if found is not None:
                frames.append(with_sha256(found[0], split))
                infos[(split.name, name)] = found[1]
                continue
            log.info("%s: %s (train %d, test %d)", split.name, name, len(split.train), len(split.test))
            key = (run.describe.cache_key(), run.components)
            if key not in contexts:
                contexts[key] = context.derive(run.describe, run.components)
            rows, info = run_method(name, split, classes, contexts[key], cfg, run.options, run.method)
            write_part(parts, part, rows, info)
            frames.append(rows)
            infos[(split.name, name)] = info
    preds = pd.concat(frames, ignore_index=True)
    table = accuracy_table(preds)
    intervals = interval_table(preds)
    metrics = {
        "protocol": cfg.protocol, "classes": classes, "n_images": int(len(frame)),
        "domains": sorted(frame["domain"].unique()),
        "accuracy": {m: {k: float(v) for k, v in row.items()} for m, row in table.iterrows()},
        "accuracy_ci95": intervals,
        "runs": {f"{s}/{m}": info for (s, m), info in infos.items()},
        "config": to_dict(cfg),
        "code": {"version": __version__, "commit": source_commit()},  # what computed it, for summaries
    }
    # every result file from this run, swapped in at once
    with staged_run(run_dir, config_hash(cfg)) as staging:
        save_config(cfg, staging / "config.yaml")
        save_config(context.describe, staging / "describe.yaml")
        write_methods_yaml(staging / "methods.yaml", options, infos)
        write_text(staging / "metrics.json", json.dumps(metrics, indent=2, ensure_ascii=False))
        preds.to_parquet(staging / "predictions.parquet", index=False)
        # with 95 % intervals
        write_text(staging / "accuracy_ci95.md", markdown_interval_table(intervals) + "\n")
        write_report(staging, preds, table, classes, metrics, gallery=cfg.gallery)
    return RunResult(run_dir=run_dir, table=table, predictions=preds, markdown=markdown_table(table),
                     metrics=metrics)


