"""describe-decide as library functions: finetune on a folder into an adapter, predict with it, write results.

The ``steervis fit`` and ``steervis predict`` verbs are thin wrappers over these, so a notebook does the same.

>>> from steervis.methods.finetune import fit, predict, write_predictions
>>> card = fit("~/.cache/steervis/data/minidomains", "runs/pc", decide_config("decide-quick"),
...            domains=["photo", "clipart"])  # doctest: +SKIP
>>> frame, config = predict("runs/pc", "photo.png")  # doctest: +SKIP
>>> write_predictions(frame, "preds.json")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Room the adapter needs on disk: a LoRA adapter of a small LM and its card are a few MB; a 7B decider's
# rank-8 adapter is ~40 MB, so 64 MB refuses a full disk before the training that would end in ENOSPC.
FIT_SPACE = 64 << 20


def fit(data: str | Path, out: str | Path, config: Any, domains: list[str] | None = None,
        describe: Any = None, progress: bool = True, overwrite: bool = False,
        follow_links: bool = False) -> Any:
    """Finetune on ``domains`` of the folder ``data`` and save to ``out``; returns its model card
    (:class:`~steervis.card.ModelCard`).

    Args:
        data: ``<root>/<domain>/<class>/<image>`` folder.
        out: Output folder, written atomically. It must be new, empty, or (with ``overwrite``) a previous
            steervis output; a folder of the user's own, or one that holds or lies inside ``data``, is
            refused.
        config: A ``DecideConfig``.
        domains: Training domains (default: all).
        describe: A ``DescribeConfig`` or its values (default: the describer's defaults).
        progress: Show progress bars.
        overwrite: Replace a previous steervis output at ``out``.
        follow_links: Also read symlinks in ``data`` that lead outside it (those inside it are always
            followed).
    """
    from steervis.disk import check_writable, output_lock
    from steervis.lm.train import is_main_process
    from steervis.outputs import check_out_dir

    out = check_out_dir(out, overwrite=overwrite, inputs=[data], kind="adapter")  # resolved: a link's target
    check_writable(out, FIT_SPACE, "the adapter")
    # under `accelerate launch`, rank 0 alone writes, so rank 0 alone holds the lock
    if not is_main_process():
        return _fit(data, out, config, domains, describe, progress, follow_links)
    with output_lock(out):
        check_out_dir(out, overwrite=overwrite, inputs=[data], kind="adapter")  # a writer may have finished
        return _fit(data, out, config, domains, describe, progress, follow_links)


def _fit(data: str | Path, out: str | Path, config: Any, domains: list[str] | None, describe: Any,
         progress: bool, follow_links: bool = False) -> Any:
    import shutil

    from steervis.card import read_card
    from steervis.config import dump_config
    from steervis.errors import SteervisError
    from steervis.lm.train import is_main_process
    from steervis.methods.describe_decide import DescribeDecide
    from steervis.methods.task import open_task
    from steervis.methods.texts import describe_config, describe_texts

    task = open_task(data, domains=domains, progress=progress, follow_links=follow_links)
    folder, images = task.folder, task.images
    for domain in domains or []:
        if not (folder.frame["domain"] == domain).any():
            raise SteervisError(f"Domain {domain!r} in {folder.root} has no usable images.")
    if len(folder.classes) < 2:  # an adapter that can only ever say one label is never what was meant
        raise SteervisError(f"The training images in {folder.root} ({', '.join(folder.domains)}) hold one "
                            f"class, {folder.classes[0]!r}: a classifier needs at least two class folders.")
    dcfg = describe if describe is not None and not isinstance(describe, dict) else describe_config(describe)
    # The card keeps the classes (and react's folder): predict describes with the same class tags and matcher.
    dcfg = task.describer(dcfg)
    texts = describe_texts(dcfg, config.components, progress=progress, images=images)
    checkpoint = fit_checkpoint(out)
    clf = DescribeDecide(texts, config, describe_config=dcfg, progress=progress, checkpoint=checkpoint)
    clf.fit(folder.frame, folder.classes)
    data = {"root": str(folder.root), "domains": folder.domains, "n_images": len(folder.frame),
            "image_hash": frame_hash(folder.frame)}
    if not is_main_process():  # under `accelerate launch`, rank 0 alone writes the adapter
        return clf.model_card(data)
    clf.save(out, texts={"decide.yaml": dump_config(config)}, data=data)
    shutil.rmtree(checkpoint, ignore_errors=True)  # the adapter is on disk: its training state is spent
    return read_card(out, kind="decider")


def fit_checkpoint(out: str | Path) -> Path:
    """The trainer's resumable state for a fit into ``out``: in the cache, keyed by the output's path (the
    state carries the run's fingerprint, so a changed setting or image never resumes from it)."""
    import hashlib

    from steervis.paths import cache_dir

    return cache_dir("checkpoints", "fit", hashlib.sha256(str(Path(out).resolve()).encode()).hexdigest()[:16])


def frame_hash(frame: Any) -> str:
    """The training images' identity for the card: sha256 over sorted (image sha256 + class)."""
    import hashlib

    return hashlib.sha256("\n".join(sorted(frame["sha256"] + frame["class"])).encode()).hexdigest()[:16]


def predict(adapter: str | Path, target: str | Path,
            overrides: list[str] | dict[str, Any] | None = None) -> Any:
    """Predictions for ``target`` (image | folder | manifest) as a DataFrame, plus the config used.

    Args:
        adapter: Folder written by ``steervis fit``.
        target: Image file, folder of images, or manifest (parquet/CSV with a ``path`` column).
        overrides: changes to the saved decide config: ``key=value`` texts (e.g. ``inference=generate``) or
            a mapping (``{"inference": "generate"}``).

    Returns:
        ``(frame, config)``; frame columns ``path, label, confidence, description, p:<class>...``.
    """
    import pandas as pd

    from steervis.card import read_card
    from steervis.config import to_dict
    from steervis.data.inputs import frame_from_input
    from steervis.methods.texts import describe_config, describe_texts
    from steervis.vllavo.decide.decider import Decider

    card = read_card(adapter, kind="decider")
    config = predict_config(adapter, overrides)
    decider = Decider.load(adapter, **to_dict(config))
    frame = frame_from_input(target)
    texts = describe_texts(describe_config(card.decider.describe), config.components)(frame)
    probs = decider.predict_proba(texts)
    out = pd.DataFrame({"path": frame["path"], "label": [decider.classes[i] for i in probs.argmax(1)],
                        "confidence": probs.max(1), "description": texts})
    for j, name in enumerate(decider.classes):
        out[f"p:{name}"] = probs[:, j]
    out.attrs["skipped"] = frame.attrs.get("skipped", [])  # (path, reason) of inputs that were not images
    return out, config


def predict_config(adapter: str | Path, overrides: list[str] | dict[str, Any] | None = None) -> Any:
    """The adapter's saved decide config with ``key=value`` overrides (or a mapping of them) applied."""
    from steervis.card import read_card
    from steervis.config import load_config, merge
    from steervis.vllavo.decide.config import DecideConfig

    saved = read_card(adapter, kind="decider").config
    # where the adapter trained is not where it predicts: the saved device is never reused
    saved = {k: v for k, v in saved.items() if k != "device"}
    if isinstance(overrides, dict):
        return load_config(DecideConfig, base=merge(saved, overrides))
    return load_config(DecideConfig, base=saved, overrides=overrides or [])


def write_predictions(frame: Any, path: str | Path) -> Path:
    """CSV or JSON by suffix, written atomically; JSON rows carry a ``probabilities`` mapping."""

    from steervis.atomic import atomic_path

    path = Path(path)
    check_out_file(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            prob_cols = [c for c in frame.columns if c.startswith("p:")]
            rows = [{"path": r["path"], "label": r["label"], "confidence": float(r["confidence"]),
                     "probabilities": {c[2:]: float(r[c]) for c in prob_cols},
                     "description": r["description"]}
                    for r in frame.to_dict("records")]
            tmp.write_text(json.dumps(rows, indent=2))
    return path


def check_out_file(path: str | Path) -> None:
    """``--out`` of predict: a .csv or .json file path, not a folder (checked before any work)."""
    from steervis.errors import SteervisError

    path = Path(path)
    if path.suffix not in (".csv", ".json"):
        raise SteervisError(f"--out {path} must end in .csv or .json.")
    if path.is_dir():
        raise SteervisError(f"--out {path} is a folder: give a file name ending in .csv or .json.")
    if path.parent.exists() and not path.parent.is_dir():
        raise SteervisError(f"--out {path}: {path.parent} is a file, not a folder.")
