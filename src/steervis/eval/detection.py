"""The detection protocol: every grounder's COCO AP on one scenes split or COCO folder, in one run folder.

Each of ``detection.grounders`` is prompted with every category name of the data (GLIP's detection
evaluation, as ``steervis ground eval``) and scored by :func:`steervis.ground.run.evaluate`: AP@[.5:.95], AP50
and AP75, 95 % bootstrap intervals, and the same per style where the data has styles (test-styles). The run
folder holds ``config.yaml``, ``metrics.json``, ``predictions.parquet`` (every detection, one row each),
``ap_ci95.md`` and ``report.html`` (the metrics, a chart and a few scenes drawn per grounder, truth and
detections). Each grounder's detections are a run part, ``parts/<grounder>-<key>.detections.jsonl`` (ground's
:class:`~steervis.ground.detection_log.DetectionLog`, keyed by the evaluation's identity: the grounder's
weights, the data's annotations, the settings), written batch by batch, so a killed run grounds only the
images not yet done, and a changed grounder or setting grounds again.

>>> from steervis.eval import EvaluateConfig, evaluate
>>> cfg = EvaluateConfig(protocol="detection", detection={"grounders": ["crop"], "scenes": "test-unseen"})
>>> evaluate(cfg).table  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd

from steervis import __version__
from steervis.atomic import write_text
from steervis.config import config_hash, save_config, to_dict
from steervis.errors import SteervisError
from steervis.eval.config import DetectionConfig, EvaluateConfig
from steervis.eval.detection_report import cell, write_detection_report
from steervis.identity import source_commit

log = logging.getLogger(__name__)

METRICS = ("ap", "ap50", "ap75")  # the table's columns, as COCO reports them
RUN_FIELDS = ("seconds", "resumed_images", "dropped_boxes")  # how a grounder's evaluation went, not a score


def detection_data(cfg: DetectionConfig) -> Any:
    """The evaluated images: a COCO folder, else a built scenes split; an empty selection is one sentence."""
    from steervis.data.scenes import built_root
    from steervis.ground.coco import read_coco, select_part

    folder = Path(cfg.coco).expanduser() if cfg.coco else built_root(cfg.scenes)
    coco = select_part(read_coco(folder), cfg.part, cfg.images or None)
    if not coco.images:
        raise SteervisError(f"The detection data {folder} holds no images in part {cfg.part!r}: give a COCO "
                            "folder or scenes split with images (or detection.part=all).")
    return coco


def check_grounders(names: list[str]) -> None:
    """Every grounder is known and named once, before any data is read or model loaded."""
    from steervis.ground.grounders import GROUNDERS

    for name in names:
        GROUNDERS.get(name)  # an unknown name: one sentence with the closest known one
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise SteervisError(f"detection.grounders names {twice[0]!r} twice: name each grounder once.")


def grounder_eval(cfg: DetectionConfig, grounder: str) -> Any:
    """``steervis ground eval``'s config for one grounder of the protocol (name prompts)."""
    from steervis.ground.run import EvalConfig

    return EvalConfig(grounder=grounder, scenes=cfg.scenes, coco=cfg.coco, part=cfg.part, images=cfg.images,
                      threshold=cfg.threshold, nms_iou=cfg.nms_iou, bootstrap=cfg.bootstrap,
                      prompts="names", device=cfg.device, dtype=cfg.dtype)


def part_path(parts: Path, grounder: str, key: str) -> Path:
    """A grounder's detections file: its name made a file name (``./runs/glip`` → ``runs-glip``), its key."""
    from steervis.ground.detection_log import SUFFIX

    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", grounder).strip(".-") or "grounder"
    return parts / f"{safe}-{key}{SUFFIX}"


def score_grounder(cfg: DetectionConfig, name: str, coco: Any, parts: Path,
                   progress: bool) -> tuple[dict[str, Any], dict[int, Any]]:
    """One grounder's result (``steervis ground eval``'s) and its detections by image id, resumed from its
    part; a grounder whose part is complete is not even loaded."""
    from steervis.ground.detection_log import DetectionLog, eval_identity
    from steervis.ground.omni import open_for
    from steervis.ground.prompts import CHUNK
    from steervis.ground.run import evaluate

    ecfg = grounder_eval(cfg, name)
    identity = eval_identity(ecfg, coco, CHUNK)
    path = part_path(parts, name, identity["key"])
    kept = DetectionLog(path, identity) if path.is_file() else None
    grounder = None
    if kept is None or not {image.id for image in coco.images} <= set(kept.rows):
        grounder = open_for(ecfg)  # loaded before the part is started: one that cannot load leaves none
        kept = kept or DetectionLog(path, identity)
    log.info("detection: %s on %d images", name, len(coco.images))
    result = evaluate(grounder, coco, progress=progress, resamples=cfg.bootstrap, log=kept)
    return {**result, "detections": f"parts/{path.name}"}, kept.detections(coco.categories)


def detection_rows(name: str, coco: Any, found: dict[int, Any]) -> pd.DataFrame:
    """Every detection of one grounder, one row each (boxes xyxy in the image's pixels)."""
    rows = [{"grounder": name, "image_id": image.id, "path": str(image.path), "kind": image.kind,
             "phrase": phrase, "score": float(score), **dict(zip(("x0", "y0", "x1", "y1"), map(float, box),
                                                                  strict=True))}
            for image in coco.images for box, score, phrase in zip(*found[image.id], strict=True)]
    columns = ["grounder", "image_id", "path", "kind", "phrase", "score", "x0", "y0", "x1", "y1"]
    return pd.DataFrame(rows, columns=columns)


def ap_table(scores: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Grounders × AP, AP50, AP75 and AP per style (fractions)."""
    rows = {}
    for name, result in scores.items():
        row = {metric.upper(): result[metric] for metric in METRICS}
        row.update({f"AP {kind}": part["ap"] for kind, part in result.get("by_kind", {}).items()})
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def markdown_ap(scores: dict[str, dict[str, Any]]) -> str:
    """The AP table in Markdown, in %, with intervals; a column per style where the data has styles."""
    kinds = sorted({kind for result in scores.values() for kind in result.get("by_kind", {})})
    head = ["grounder", "AP", "AP50", "AP75", *(f"AP {kind}" for kind in kinds)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, result in scores.items():
        styles = [cell(result["by_kind"][kind], "ap") if kind in result.get("by_kind", {}) else ""
                  for kind in kinds]
        lines.append("| " + " | ".join([name, *(cell(result, m) for m in METRICS), *styles]) + " |")
    return "\n".join(lines)


def run_detection(cfg: EvaluateConfig, run_dir: Path, progress: bool = True) -> Any:
    """Score every grounder on the data; publish metrics, detections and the report at once."""
    from steervis.eval.harness import RunResult
    from steervis.eval.run_folder import staged_run
    from steervis.outputs import write_stamp

    settings = cfg.detection
    check_grounders(settings.grounders)
    coco = detection_data(settings)
    if not run_dir.is_dir() or not any(run_dir.iterdir()):  # claimed first, so a rerun may resume it
        run_dir.mkdir(parents=True, exist_ok=True)
        write_stamp(run_dir, "run", config_hash(cfg), state="started", files=["parts"])
    parts = run_dir / "parts"
    parts.mkdir(exist_ok=True)
    scores, runs, found = {}, {}, {}
    for name in settings.grounders:
        result, found[name] = score_grounder(settings, name, coco, parts, progress)
        runs[name] = {k: result.pop(k) for k in (*RUN_FIELDS, "detections") if k in result}
        scores[name] = result
    preds = pd.concat([detection_rows(name, coco, found[name]) for name in settings.grounders],
                      ignore_index=True)
    metrics = {
        "protocol": cfg.protocol, "data": str(coco.folder), "part": settings.part,
        "n_images": len(coco.images), "categories": coco.names, "ap": scores,
        "runs": {name: {**info, "commit": source_commit()} for name, info in runs.items()},
        "config": to_dict(cfg), "code": {"version": __version__, "commit": source_commit()},
    }
    table, markdown = ap_table(scores), markdown_ap(scores)
    with staged_run(run_dir, config_hash(cfg)) as staging:  # every result file swapped in at once
        save_config(cfg, staging / "config.yaml")
        write_text(staging / "metrics.json", json.dumps(metrics, indent=2, ensure_ascii=False))
        preds.to_parquet(staging / "predictions.parquet", index=False)
        write_text(staging / "ap_ci95.md", markdown + "\n")
        write_detection_report(staging, coco, found, table, metrics, settings)
    return RunResult(run_dir=run_dir, table=table, predictions=preds, markdown=markdown, metrics=metrics,
                     intervals=("ap_ci95.md", "of AP and AP50 per grounder"))
