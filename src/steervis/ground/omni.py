"""OmniLabel-style evaluation (Schulter et al. 2023, as DesCo reports it): a grounder prompted with names,
with descriptions that never name the class, and with descriptions of objects that are not there.

* ``names``: COCO AP, every image prompted with every category name (:func:`steervis.ground.run.evaluate`).
* ``descriptions``: AP with every category written as one description of it, each category its own; one that
  has none, or only descriptions another category took, is left out of this AP (its boxes too) and counted in
  ``left_out``, never prompted by its name. Beside it the AP on the names of every category, and the
  harmonic mean of the two (OmniLabel's summary).
* ``absent``: each image prompted with one description of a category it does not hold, and one of a category
  it holds (described categories only), each read alone. The false-positive rate is the share of absent
  prompts with any detection scoring at or above the threshold; the hit rate the share of present prompts
  with a detection of the described object (IoU ≥ 0.5) at or above it. The threshold is chosen on a
  validation part (Youden's J: the hit rate less the false-positive rate, highest) and passed to the test
  run, never chosen on the test images.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from steervis.errors import SteervisError
from steervis.ground.coco import CocoSet, coco_set_ap
from steervis.ground.contract import Detections
from steervis.ground.descriptions import Descriptions, concept_descriptions
from steervis.ground.prompts import CHUNK
from steervis.ground.run import EvalConfig, evaluate

DESCRIPTION_CHUNK = 4  # descriptions per encoder pass: four of ~16 tokens fit a 128-token window
ABSENT_SEED = 0  # which absent and present descriptions each image is asked about: the same every run
HIT_IOU = 0.5  # a present description is found when a box overlaps its object this much (AP50's bar)


def category_phrases(names: Sequence[str], descriptions: Descriptions) -> tuple[dict[str, str], list[str]]:
    """Each described category's description for the prompt, none shared by two categories (the first in
    ``names`` order keeps it); and the categories left without one."""
    taken: set[str] = set()
    out, left_out = {}, []
    for name in names:
        free = [d for d in descriptions.texts.get(name, []) if d not in taken]
        if free:
            out[name] = free[0]
            taken.add(free[0])
        else:
            left_out.append(name)
    return out, left_out


def only(coco: CocoSet, names: Sequence[str]) -> CocoSet:
    """``coco`` with only the categories ``names`` and their boxes (the images all kept)."""
    from dataclasses import replace

    keep = set(names)
    images = []
    for image in coco.images:
        rows = [k for k, p in enumerate(image.phrases) if p in keep]
        images.append(replace(image, boxes=image.boxes[rows].reshape(-1, 4),
                              phrases=[image.phrases[k] for k in rows]))
    return CocoSet(coco.folder, images, {k: v for k, v in coco.categories.items() if v in keep}, coco.dropped)


def harmonic_mean(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b > 0 else 0.0


def evaluate_descriptions(grounder: Any, coco: CocoSet, descriptions: Descriptions, batch_size: int = 16,
                          progress: bool = False, resamples: int = 0,
                          describer: Any = None) -> dict[str, Any]:
    """AP on description prompts, AP on name prompts and their harmonic mean; ``describer`` (the same
    grounder reading :data:`DESCRIPTION_CHUNK` phrases at a time) grounds the descriptions when given."""
    from tqdm.auto import tqdm

    from steervis.data.images import open_image

    phrase_of, left_out = category_phrases(coco.names, descriptions)
    if not phrase_of:
        raise SteervisError(f"No category of {coco.folder} has a description of its own: give one "
                            "(--set descriptors=FILE.yaml).")
    names = evaluate(grounder, coco, batch_size, progress, resamples)
    category_of = {p: n for n, p in phrase_of.items()}
    detections = []
    for i in tqdm(range(0, len(coco.images), batch_size), desc="descriptions", disable=not progress):
        images = [open_image(image.path) for image in coco.images[i : i + batch_size]]
        for det in (describer or grounder).ground(images, ". ".join(phrase_of.values())):
            detections.append(Detections(det.boxes, det.scores, [category_of[p] for p in det.phrases]))
    described = coco_set_ap(only(coco, list(phrase_of)), detections, resamples)
    out = {"prompts": "descriptions", "ap_descriptions": described["ap"],
           "ap50_descriptions": described["ap50"],
           "ap_names": names["ap"], "ap50_names": names["ap50"],
           "ap_hmean": harmonic_mean(names["ap"], described["ap"]),
           "ap50_hmean": harmonic_mean(names["ap50"], described["ap50"])}
    for key in ("ap_ci95", "ap50_ci95"):
        if key in described:
            out[key.replace("_ci95", "_descriptions_ci95")] = described[key]
            out[key.replace("_ci95", "_names_ci95")] = names[key]
    return {**out, "images": len(coco.images), "described": len(phrase_of), "left_out": len(left_out),
            "left_out_categories": left_out[:50], "dropped_boxes": coco.dropped}


def best_hit(det: Detections, truth: np.ndarray) -> float:
    """The best score of a detection overlapping one of ``truth``'s boxes at :data:`HIT_IOU` (0: none)."""
    import torch

    from steervis.ground.boxes import box_iou

    if not len(det) or not len(truth):
        return 0.0
    overlaps = box_iou(*(torch.as_tensor(b, dtype=torch.float64) for b in (det.boxes, truth)))
    hit = (overlaps >= HIT_IOU).any(dim=1).numpy()
    return float(det.scores[hit].max()) if hit.any() else 0.0


def choose_threshold(present: np.ndarray, absent: np.ndarray) -> float:
    """The score threshold with the highest hit rate less false-positive rate (Youden's J) over the observed
    scores; 1.0 when nothing scored (no threshold is better than refusing everything)."""
    candidates = np.unique(np.concatenate([present, absent]))
    candidates = candidates[candidates > 0]
    if not len(candidates):
        return 1.0
    gain = [(present >= t).mean() - (absent >= t).mean() for t in candidates]
    return float(candidates[int(np.argmax(gain))])


def rates(present: np.ndarray, absent: np.ndarray, threshold: float) -> dict[str, Any]:
    """False-positive and hit rates at ``threshold`` with 95 % bootstrap intervals (stats' accuracy_ci)."""
    from steervis.stats import accuracy_ci

    fp, fp_lo, fp_hi = accuracy_ci(absent >= threshold)
    hit, hit_lo, hit_hi = accuracy_ci(present >= threshold)
    return {"fp_rate": fp, "fp_rate_ci95": [fp_lo, fp_hi], "hit_rate": hit, "hit_rate_ci95": [hit_lo, hit_hi]}


def absent_scores(grounder: Any, coco: CocoSet, descriptions: Descriptions,
                  progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per image: the best score for a description of an object it holds (a hit only), and the best score
    of any detection for a description of a category it does not hold (an image without one adds none)."""
    from tqdm.auto import tqdm

    from steervis.data.images import open_image

    rng = np.random.default_rng(ABSENT_SEED)
    phrase_of, _ = category_phrases(coco.names, descriptions)
    present, absent = [], []
    for image in tqdm(coco.images, desc="absent", disable=not progress):
        own = set(image.phrases)
        held = sorted(own & set(phrase_of))
        others = [n for n in phrase_of if n not in own]
        picked = [held[int(rng.integers(len(held)))] if held else None,
                  others[int(rng.integers(len(others)))] if others else None]
        pixels = open_image(image.path)
        if picked[0] is not None:
            det = grounder.ground([pixels], phrase_of[picked[0]])[0]
            truth = image.boxes[[k for k, p in enumerate(image.phrases) if p == picked[0]]]
            present.append(best_hit(det, truth))
        if picked[1] is not None:
            det = grounder.ground([pixels], phrase_of[picked[1]])[0]
            absent.append(float(det.scores.max()) if len(det) else 0.0)
    return np.asarray(present, dtype=float), np.asarray(absent, dtype=float)


def evaluate_absent(grounder: Any, coco: CocoSet, descriptions: Descriptions, threshold: float | None,
                    threshold_from: str = "", progress: bool = False) -> dict[str, Any]:
    """False-positive rate on absent-object descriptions at ``threshold`` (chosen on validation and passed
    in); without one, the threshold chosen here, allowed on a validation part only (the caller checks)."""
    present, absent = absent_scores(grounder, coco, descriptions, progress)
    if not len(absent):
        raise SteervisError(f"{coco.folder}: no image lacks a described category, so no absent-object "
                            "prompt can be made.")
    chosen = choose_threshold(present, absent)
    used = chosen if threshold is None else threshold
    return {"prompts": "absent", "threshold": used, "threshold_from": threshold_from or "this part",
            "threshold_chosen": chosen, **rates(present, absent, used), "absent_prompts": len(absent),
            "present_prompts": len(present), "images": len(coco.images), "dropped_boxes": coco.dropped}


def absent_threshold(cfg: EvalConfig) -> tuple[float | None, str]:
    """The false-positive threshold of an absent-object evaluation and where it came from: given, read from
    a validation run's JSON, or (on a validation part only) chosen there."""
    if cfg.fp_threshold is not None:
        return cfg.fp_threshold, "given"
    if cfg.threshold_from:
        path = Path(cfg.threshold_from).expanduser()
        try:
            run = json.loads(path.read_text())
            return float(run["threshold_chosen"]), str(path)
        except (OSError, ValueError, KeyError, TypeError):
            raise SteervisError(f"{path} is not the JSON of an absent-prompt validation run (no "
                                "threshold_chosen).") from None
    if cfg.part != "val":
        raise SteervisError("Choose the absent-prompt threshold on the validation part (--part val) and pass "
                            "it: --set fp_threshold=X or --set threshold_from=VAL.json.")
    return None, ""


def open_for(cfg: EvalConfig, chunk: int = CHUNK) -> Any:
    """The evaluated grounder: detections above ``cfg.threshold`` kept after NMS at ``cfg.nms_iou``,
    ``chunk`` phrases read a pass."""
    from steervis.ground.glip import InferSettings
    from steervis.ground.grounders import open_grounder

    settings = InferSettings(threshold=cfg.threshold, nms_iou=cfg.nms_iou, chunk=chunk)
    return open_grounder(cfg.grounder, cfg.device, cfg.dtype, settings)


def evaluate_prompts(cfg: EvalConfig, coco: CocoSet, progress: bool = False,
                     detections: str | Path | None = None) -> dict[str, Any]:
    """``steervis ground eval`` in its prompt mode: names (phrases read 16 at a time, GLIP's evaluation),
    descriptions or absent (descriptions read four at a time, the length of DesCo's training prompts). With
    ``detections`` (a file), name prompts keep their detections there batch by batch and resume from it."""
    if cfg.prompts == "names":
        from steervis.ground.detection_log import DetectionLog, eval_identity

        grounder = open_for(cfg)  # loaded first: a grounder that cannot load leaves no file behind
        log = DetectionLog(detections, eval_identity(cfg, coco, CHUNK)) if detections else None
        return {"prompts": "names", **evaluate(grounder, coco, progress=progress, resamples=cfg.bootstrap,
                                               log=log)}
    threshold, source = absent_threshold(cfg) if cfg.prompts == "absent" else (None, "")
    described = concept_descriptions(coco.names, coco.folder, cfg.part, not cfg.coco, cfg.descriptors)
    if cfg.prompts == "descriptions":
        return evaluate_descriptions(open_for(cfg), coco, described, progress=progress,
                                     resamples=cfg.bootstrap, describer=open_for(cfg, DESCRIPTION_CHUNK))
    return evaluate_absent(open_for(cfg, DESCRIPTION_CHUNK), coco, described, threshold, source, progress)
