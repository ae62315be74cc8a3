"""The evaluation harness: every method on the same splits, sharing one cache, into one run folder.

A run folder holds ``config.yaml`` (resolved), ``describe.yaml`` (the describer every method shared),
``methods.yaml`` (each method's resolved options; describe-decide's resolved ``DecideConfig`` too),
``metrics.json``, ``predictions.parquet`` and ``report.html``.
Each (split, method) result is written to ``parts/`` as soon as it is done, so a killed run resumes where it
stopped; the result files are published together, with the completion stamp last (``steervis.outputs``), while
the run folder's lock keeps a second writer out.

>>> from steervis.eval import EvaluateConfig, evaluate
>>> result = evaluate(EvaluateConfig(data="toy", methods=["zeroshot"]))  # doctest: +SKIP
>>> print(result.markdown)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis.atomic import DAMAGED, atomic_dir, atomic_path, set_aside, write_text
from steervis.config import config_hash, save_config, to_dict
from steervis.errors import SteervisError
from steervis.eval.config import EvaluateConfig, UDAConfig  # noqa: F401  (re-exported)
from steervis.eval.metrics import accuracy_table, interval_table, markdown_interval_table, markdown_table
from steervis.eval.protocols import PROTOCOLS, Split, check_splits
from steervis.outputs import check_writable, output_lock

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    run_dir: Path
    table: pd.DataFrame
    predictions: pd.DataFrame
    markdown: str
    metrics: dict[str, Any]


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_dataset(cfg: EvaluateConfig, images: Any = None) -> tuple[pd.DataFrame, list[str]]:
    """The items of the run (deterministic subset) and the sorted class list; ``images`` keeps the decoded ones."""
    from steervis.data import load_folder, minidomains_root

    root = Path(cfg.data).expanduser() if cfg.data else minidomains_root()
    data = load_folder(root, domains=cfg.domains or None, classes=cfg.classes or None, images=images,
                       follow_links=cfg.follow_links)
    for path, reason in data.skipped:
        log.warning("skipped %s: %s", path, reason)
    frame = data.frame
    if cfg.max_per_class:
        # Content-hash order: a fixed pseudo-random subset, identical on every machine and every run.
        frame = (frame.sort_values("sha256").groupby(["domain", "class"], sort=True).head(cfg.max_per_class)
                 .sort_values(["domain", "class", "path"]).reset_index(drop=True))
    return frame, sorted(frame["class"].unique())


def build_context(cfg: EvaluateConfig, progress: bool = True, images: Any = None, classes: list[str] = ()):
    from steervis.data.decoded import DecodedImages
    from steervis.methods.context import MethodContext
    from steervis.methods.task import resolve_task_names

    return MethodContext(describe=resolve_task_names(cfg.describe, list(classes), progress),
                         components=tuple(cfg.components) or None, progress=progress,
                         images=images if images is not None else DecodedImages())


@dataclass
class MethodRun:
    """One row of the table: a registered method, its checked options and the descriptions it reads.

    ``label`` is the entry of ``methods``: a method name, or ``METHOD@LABEL`` for a labelled variant whose
    ``method_options`` entry may also set ``describe`` (overrides of the run's describer) and ``components``,
    so one run compares describers or description parts side by side (e.g. ``describe-decide@react-pool``).
    """

    label: str
    method: str
    options: Any
    describe: Any
    components: tuple[str, ...] | None


VARIANT_KEYS = ("describe", "components")  # harness keys a labelled variant may set beside its method's options


def resolve_methods(cfg: EvaluateConfig) -> dict[str, MethodRun]:
    """Every method's ``Options``, checked before any work: a misspelt method, option or value fails here."""
    from steervis.config import from_dict
    from steervis.methods import METHODS, method_options
    from steervis.vllavo.describe.config import DescribeConfig

    for name in cfg.method_options:
        METHODS.get(name.partition("@")[0])  # did-you-mean on a misspelt method name in method_options
    resolved: dict[str, MethodRun] = {}
    for label in cfg.methods:
        method, _, variant = label.partition("@")
        values = dict(cfg.method_options.get(method, {}))  # a variant starts from its method's options
        extra = dict(cfg.method_options.get(label, {})) if variant else {}
        harness = {key: extra.pop(key) for key in VARIANT_KEYS if key in extra}
        values.update(extra)
        opts = method_options(method, values)
        if getattr(opts, "components", None) is not None:  # one source: the run's (or the variant's) components
            raise SteervisError(f"method_options.{label}.components: set `components` at the top of the "
                                "evaluate config, or for a labelled variant METHOD@LABEL in its method_options.")
        describe = cfg.describe
        if "describe" in harness:
            describe = from_dict(DescribeConfig, {**to_dict(cfg.describe), **harness["describe"]},
                                 where=f"method_options.{label}.describe.")
        components = tuple(harness.get("components", cfg.components)) or None
        resolved[label] = MethodRun(label, method, opts, describe, components)
    return resolved


def prediction_rows(method: str, split: Split, proba: np.ndarray, classes: list[str],
                    texts: list[str] | None) -> pd.DataFrame:
    order = np.argsort(-proba, axis=1)[:, :3]
    return pd.DataFrame({
        "method": method, "split": split.name, "path": split.test["path"].to_numpy(),
        "sha256": split.test["sha256"].to_numpy(),  # what `bench paired` pairs on: the image, not its path
        "domain": split.test["domain"].to_numpy(), "class": split.test["class"].to_numpy(),
        "pred": [classes[i] for i in proba.argmax(axis=1)],
        "confidence": proba.max(axis=1),
        "top3": [json.dumps([[classes[j], round(float(p[j]), 4)] for j in o]) for p, o in zip(proba, order, strict=True)],
        "description": texts if texts is not None else [""] * len(split.test),
    })


def with_sha256(rows: pd.DataFrame, split: Split) -> pd.DataFrame:
    """A part written before predictions carried each image's sha256 gets it from its split (the part's key
    fixes path → sha256), so a rerun rewrites predictions.parquet with it and recomputes nothing."""
    if "sha256" in rows:
        return rows
    return rows.assign(sha256=rows["path"].map(dict(zip(split.test["path"], split.test["sha256"], strict=True))))


def run_method(name: str, split: Split, classes: list[str], context, cfg: EvaluateConfig,
               options: Any = None, method_name: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Fit one method on the split's train part and predict its test part; UDA methods may adapt first.

    ``name`` labels the rows; ``method_name`` is the registered method when ``name`` is a labelled variant."""
    from steervis.methods import build_method, has_capability

    seed_everything(cfg.seed)
    method_name = method_name or name
    method = build_method(method_name, context,
                          options if options is not None else cfg.method_options.get(method_name))
    start = time.perf_counter()
    method.fit(split.train, classes)
    fit_s = time.perf_counter() - start
    info: dict[str, Any] = {"fit_s": round(fit_s, 2)}
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
        extra, info.setdefault("variants", {})[suffix] = timed_predict(variant, predict, split.test, len(classes))
        rows.append(prediction_rows(variant, split, extra, classes, texts))
    return pd.concat(rows, ignore_index=True), info


def timed_predict(name: str, predict, items: pd.DataFrame, n_classes: int) -> tuple[np.ndarray, dict[str, Any]]:
    """``predict(items)`` as a checked ``[n, k]`` array, with its seconds and images/s."""
    start = time.perf_counter()
    proba = np.asarray(predict(items), dtype=float)
    seconds = time.perf_counter() - start
    if proba.shape != (len(items), n_classes):
        raise SteervisError(f"{name} returned probabilities of shape {proba.shape}, expected "
                            f"{(len(items), n_classes)}.")
    return proba, {"predict_s": round(seconds, 3),
                   "images_per_s": round(len(items) / seconds, 1) if seconds > 1e-3 else None}  # None: too fast


def run_dir_for(cfg: EvaluateConfig) -> Path:
    """Same config → same folder, so rerunning a killed command resumes it."""
    values = to_dict(cfg)
    if not values.get("follow_links"):  # off by default: runs started before the option keep their folders
        values.pop("follow_links", None)
    return Path(cfg.out) / (cfg.name or f"{cfg.protocol}-{config_hash(values, 10)}")


def frame_digest(frame: pd.DataFrame, columns: list[str]) -> str:
    """The identity of a split's rows: a hash over their (sorted) content, not their count or run name."""
    rows = sorted("\t".join(map(str, r)) for r in frame[columns].itertuples(index=False))
    return config_hash(rows)


def part_key(cfg: EvaluateConfig, split: Split, run: MethodRun, classes: list[str]) -> str:
    """Everything one (split, method) result depends on: a changed setting or image recomputes just that part."""
    from steervis.llava.model import vlm_identity
    from steervis.matchers import matcher_identity

    options = run.options
    opts = to_dict(options) if options is not None and hasattr(options, "__dataclass_fields__") else options
    matcher, model = getattr(options, "matcher", None), getattr(options, "model", None)
    # A model trained here (a VLM stage, a saved folder) enters by the hash of its files; a plain name (a zoo
    # LM, a hub id) is already in the options, so keys of such runs stay what they were.
    identity = vlm_identity(model) if isinstance(model, str) else model
    trained = {"model": identity} if identity != model else {}
    return config_hash({
        **trained,
        "method": run.method, "options": opts, "classes": classes, "seed": cfg.seed,
        "components": list(run.components or ()), "describe": run.describe.content_fields(),
        "matcher": matcher_identity(matcher) if isinstance(matcher, str) else None,
        "rounds": cfg.uda.rounds if PROTOCOLS.meta(cfg.protocol).get("adapt") else None,
        "train": frame_digest(split.train, ["sha256", "class"]),
        "test": frame_digest(split.test, ["path", "sha256", "domain", "class"]),
    })


def part_paths(parts: Path, split: Split, name: str, key: str) -> tuple[Path, Path]:
    stem = f"{split.name}__{name}".replace("/", "-").replace("→", "-to-")
    return parts / f"{stem}-{key}.parquet", parts / f"{stem}-{key}.json"


def read_part(part: Path, meta: Path) -> tuple[pd.DataFrame, dict] | None:
    """A finished part and its info, or ``None`` (absent, or damaged: set aside and recomputed)."""
    if not (part.exists() and meta.exists()):
        return None
    try:
        rows = pd.read_parquet(part)
    except DAMAGED as err:  # pyarrow's ArrowInvalid is a ValueError
        set_aside(part, err, "run part")
        return None
    try:
        return rows, json.loads(meta.read_text())
    except DAMAGED as err:  # JSONDecodeError is a ValueError
        set_aside(meta, err, "run part")
        return None


def evaluate(cfg: EvaluateConfig, progress: bool = True) -> RunResult:
    """Run every method on every split of the protocol; write metrics, predictions and the report."""
    protocol = PROTOCOLS.get(cfg.protocol)  # a misspelt protocol, method or option fails before any work
    if Path(cfg.out).exists() and not Path(cfg.out).is_dir():
        raise SteervisError(f"out {cfg.out} is a file: give a folder for the run folders (or remove the file).")
    options = resolve_methods(cfg)
    run_dir = run_dir_for(cfg)
    check_run_dir(run_dir, cfg)
    check_writable(run_dir, RUN_SPACE, "the run folder")
    with output_lock(run_dir, flag="run folder"):  # one writer per run folder, from the data check to the published report
        return run_locked(cfg, run_dir, protocol, options, progress)


def run_locked(cfg: EvaluateConfig, run_dir: Path, protocol: Any, options: dict[str, MethodRun],
               progress: bool) -> RunResult:
    from steervis.data.decoded import DecodedImages

    images = DecodedImages()  # decoded once by the folder check, reused by describe and features
    frame, classes = load_dataset(cfg, images)
    from steervis.methods.task import resolve_task_names

    for run in options.values():  # class tags and the react matcher read this task's class names
        run.describe = resolve_task_names(run.describe, classes, progress)
    splits = check_splits(protocol(frame, cfg))
    return run_splits(cfg, run_dir, splits, frame, classes, options, images, progress)


# Room a run folder needs beyond its parts: predictions, metrics and a report with inline charts are a few MB
# for thousands of images; 32 MB refuses a full disk before the methods run, not after.
RUN_SPACE = 32 << 20


def check_run_dir(run_dir: Path, cfg: EvaluateConfig) -> None:
    """A run folder is resumed and republished by steervis; a folder of the user's own by that name is refused."""
    from steervis.outputs import check_apart, check_owned, restore_interrupted_swap

    check_apart(run_dir, [cfg.data] if cfg.data else [], "run folder")
    restore_interrupted_swap(run_dir)
    if run_dir.is_dir() and any(run_dir.iterdir()):
        check_owned(run_dir, run_dir, "run folder", "run")


def run_splits(cfg: EvaluateConfig, run_dir: Path, splits: list[Split], frame: pd.DataFrame, classes: list[str],
               options: dict[str, MethodRun], images: Any, progress: bool) -> RunResult:
    """Each (split, method) part computed or read back, then the run folder's results published at once."""
    from steervis.eval.report import write_report
    from steervis.outputs import write_stamp

    parts = run_dir / "parts"
    if not run_dir.is_dir() or not any(run_dir.iterdir()):  # claimed first, so a rerun after a kill may resume it
        run_dir.mkdir(parents=True, exist_ok=True)
        write_stamp(run_dir, "run", config_hash(cfg), state="started", files=["parts"])
    parts.mkdir(parents=True, exist_ok=True)
    context = build_context(cfg, progress, images, classes)
    contexts: dict[Any, Any] = {}  # one per (describer, components): variants share models and features
    frames, infos = [], {}
    for split in splits:
        for name in cfg.methods:
            run = options[name]
            part, meta = part_paths(parts, split, name, part_key(cfg, split, run, classes))
            found = read_part(part, meta)
            if found is not None:
                frames.append(with_sha256(found[0], split))
                infos[(split.name, name)] = found[1]
                continue
            log.info("%s: %s (train %d, test %d)", split.name, name, len(split.train), len(split.test))
            key = (run.describe.cache_key(), run.components)
            if key not in contexts:
                contexts[key] = context.derive(run.describe, run.components)
            rows, info = run_method(name, split, classes, contexts[key], cfg, run.options, run.method)
            with atomic_path(part) as tmp:
                rows.to_parquet(tmp, index=False)
            write_text(meta, json.dumps(info))  # written last: its presence marks a finished part
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
    }
    with staged_run(run_dir, config_hash(cfg)) as staging:  # every result file from this run, swapped in at once
        save_config(cfg, staging / "config.yaml")
        save_config(context.describe, staging / "describe.yaml")
        write_methods_yaml(staging / "methods.yaml", options, infos)
        write_text(staging / "metrics.json", json.dumps(metrics, indent=2, ensure_ascii=False))
        preds.to_parquet(staging / "predictions.parquet", index=False)
        write_text(staging / "accuracy_ci95.md", markdown_interval_table(intervals) + "\n")  # with 95 % intervals
        write_report(staging, preds, table, classes, metrics, gallery=cfg.gallery)
    return RunResult(run_dir=run_dir, table=table, predictions=preds, markdown=markdown_table(table),
                     metrics=metrics)


@contextlib.contextmanager
def staged_run(run_dir: Path, cfg_hash: str) -> Iterator[Path]:
    """A staging folder for a run's results; on success the run's parts join it and it replaces ``run_dir``.

    Readers see the old complete folder or the new one, never config from one run beside predictions of
    another. Parts are hard-linked, not copied: they are immutable once written, so both folders share them.
    """
    with atomic_dir(run_dir, kind="run", config_hash=cfg_hash) as staging:
        yield staging
        link_tree(run_dir / "parts", staging / "parts")


def link_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for path in src.iterdir() if src.is_dir() else []:
        if path.is_file() and not path.name.startswith("."):  # a writer's hidden temporary is not a part
            try:
                os.link(path, dst / path.name)
            except OSError:  # a file system without hard links
                shutil.copy2(path, dst / path.name)


def write_methods_yaml(path: Path, options: dict[str, Any], infos: dict[tuple[str, str], dict]) -> None:
    """Each method's resolved options, and the config it resolved them to (e.g. a DecideConfig), if any."""
    import yaml

    out: dict[str, Any] = {}
    for name, run in options.items():
        out[name] = {"method": run.method, "options": to_dict(run.options)} if run.method != name else \
            {"options": to_dict(run.options)}
        if run.describe is not None and name != run.method:
            out[name]["describe"] = to_dict(run.describe)
            out[name]["components"] = list(run.components or ())
    for (_, name), info in infos.items():
        if "resolved" in info:
            out[name]["resolved"] = info["resolved"]
    write_text(path, yaml.safe_dump(out, sort_keys=False, allow_unicode=True))
