"""A grounding run end to end: train the GLIP-style head on a COCO folder (trunk features cached first) and
measure any grounder on one, writing the resolved config, the model and the metrics beside each other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from steervis.device import check_placement
from steervis.ground.coco import (
    ANNOTATIONS,
    CocoSet,
    by_kind,
    class_agnostic,
    coco_set_ap,
    read_coco,
    results_json,
    select_part,
)
from steervis.ground.contract import Detections
from steervis.ground.intervals import AP_RESAMPLES
from steervis.ground.prompts import MAX_PHRASES, chunk_phrases
from steervis.ground.train import GroundSettings, train_head

PROMPT_MODES = ("names", "descriptions", "absent")  # GLIP's evaluation, then OmniLabel's two (DesCo)


def train_grounder(settings: GroundSettings, out: str | Path, progress: bool = False,
                   on_step: Any = None, cache_text: bool = False, recipe: str = "") -> dict[str, Any]:
    """Cache the trunk's grids of the training images, train (or resume) the head, save it to ``out`` with
    its ``config.yaml`` and ``train.json``; returns the run's summary. ``cache_text`` keeps each step's
    prompt token states on disk (~1 MB a step), so a later run drawing the same prompts (the other fusion
    arm, a sweep over the head's settings) skips the text encoder and trains the same weights. The model card
    (``card.json``, written last: it marks a finished model) holds the recipe preset's name, the settings,
    the data's hash, the time of each part and the process' peak RSS."""
    from steervis.config import save_config
    from steervis.ground.descriptions import concept_descriptions
    from steervis.ground.features import GridCache, image_keys
    from steervis.ground.parts import TEXT_ENCODERS
    from steervis.ground.text_cache import TextStateCache

    coco = select_part(read_coco(settings.folder()), settings.part, settings.train.max_images)
    paths = [image.path for image in coco.images]
    start = time.perf_counter()
    keys = image_keys(paths)
    grids = GridCache(settings.model.trunk_spec(), device=settings.device).features(keys, paths,
                                                                                   progress=progress)
    features_s = time.perf_counter() - start
    out = Path(out)  # written only once the data is read: a refused folder leaves nothing behind
    out.mkdir(parents=True, exist_ok=True)
    save_config(settings, out / "config.yaml")
    text = TEXT_ENCODERS.get(settings.model.text)(device=settings.device)
    cache = TextStateCache(settings.model.text) if cache_text else None
    described = None if settings.prompts.is_glip else concept_descriptions(
        coco.names, settings.folder(), settings.part, not settings.coco, settings.prompts.descriptors,
        settings.prompts.description_words)
    _, result = train_head(settings, coco, grids, text, out, keys, on_step=on_step, progress=progress,
                           text_cache=cache, descriptions=described)
    summary = {"images": len(coco.images), "dropped_boxes": coco.dropped,
               **({"described": len(described.texts), "described_by_name": len(described.fallback)}
                  if described else {}),
               "features_seconds": round(features_s, 1),
               **({"text_states_cached": cache.hits, "text_states_encoded": cache.misses} if cache else {}),
               "resumed_from": result.resumed_from, **result.summary()}
    (out / "train.json").write_text(json.dumps(summary, indent=2))
    _write_card(out, settings, coco, summary, recipe)
    return summary


def _write_card(out: Path, settings: GroundSettings, coco: CocoSet, summary: dict[str, Any],
                recipe: str) -> None:
    import resource

    from steervis.card import GrounderSection, ModelCard, write_card
    from steervis.config import to_dict
    from steervis.data.images import sha256_file

    annotations = settings.folder() / ANNOTATIONS
    data = {"folder": str(settings.folder()), "part": settings.part, "images": len(coco.images),
            "annotations_sha256": sha256_file(annotations) if annotations.is_file() else ""}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports kilobytes
    section = GrounderSection(recipe=recipe, trunk=settings.model.trunk, text=settings.model.text,
                              fusion=settings.model.fusion)
    write_card(out, ModelCard(kind="grounder", base=settings.model.trunk, config=to_dict(settings), data=data,
                              metrics={**summary, "peak_rss_mb": round(peak_mb)}, grounder=section))


def evaluate(grounder: Any, coco: CocoSet, batch_size: int = 16, progress: bool = False,
             resamples: int = 0, log: Any = None) -> dict[str, Any]:
    """AP@[.5:.95], AP50 and AP75 of ``grounder`` on a read COCO set, every image prompted with every category
    name (GLIP's detection evaluation; long lists are chunked by the grounder); with ``resamples``, 95 %
    bootstrap intervals over the images for AP and AP50. With ``log`` (a
    :class:`~steervis.ground.detection_log.DetectionLog`) each batch's detections are appended to it and the
    images it already holds are not grounded again: a killed evaluation resumes."""
    from tqdm.auto import tqdm

    from steervis.data.images import open_image

    prompts = [". ".join(names) for names in chunk_phrases(coco.names, MAX_PHRASES)]  # LVIS-sized lists too
    found = log.detections(coco.categories) if log is not None else {}
    todo = [image for image in coco.images if image.id not in found]
    start = time.perf_counter()
    with tqdm(total=len(coco.images), initial=len(coco.images) - len(todo), desc="grounding", unit="image",
              disable=not progress) as bar:
        for i in range(0, len(todo), batch_size):
            batch = todo[i : i + batch_size]
            ids = [image.id for image in batch]
            pictures = [open_image(image.path) for image in batch]
            detections = [merged(per_image) for per_image in zip(*(grounder.ground(pictures, prompt)
                                                                    for prompt in prompts), strict=True)]
            if log is not None:
                log.append(ids, results_json(ids, detections, coco.categories))
            found.update(zip(ids, detections, strict=True))
            bar.update(len(batch))
    seconds = time.perf_counter() - start
    resumed = {"resumed_images": len(coco.images) - len(todo)} if log is not None else {}
    styles = {kind: {**coco_set_ap(part, [found[image.id] for image in part.images], resamples),
                     "images": len(part.images)} for kind, part in by_kind(coco).items()}
    ordered = [found[image.id] for image in coco.images]
    agnostic = coco_set_ap(*class_agnostic(coco, ordered), resamples)
    return {**coco_set_ap(coco, ordered, resamples),
            "images": len(coco.images), **resumed, "phrases": len(coco.names), "seconds": round(seconds, 1),
            "dropped_boxes": coco.dropped, **({"by_kind": styles} if styles else {}),
            "class_agnostic": {k: v for k, v in agnostic.items() if k != "ap75"}}


def merged(parts: Sequence[Detections]) -> Detections:
    """One image's detections from several prompts as one, best first."""
    if len(parts) == 1:
        return parts[0]
    boxes = np.concatenate([np.asarray(p.boxes, dtype=np.float32).reshape(-1, 4) for p in parts])
    scores = np.concatenate([np.asarray(p.scores, dtype=np.float32) for p in parts])
    phrases = [phrase for p in parts for phrase in p.phrases]
    order = np.argsort(-scores, kind="stable")
    return Detections(boxes[order], scores[order], [phrases[i] for i in order])


@dataclass
class DetectConfig:
    """``steervis ground``: locate a prompt's phrases in images.

    Attributes:
        image: image files to read.
        prompt: phrases separated by full stops, e.g. 'a dog. a guitar.'
        grounder: glip (trained here), crop (the ConSE baseline), owlvit / owlv2 / grounding-dino (the hub),
            a hub id, or a trained model's folder written as a path (./runs/glip).
        threshold: keep boxes scoring above this.
        device: where the model runs (auto, cpu, cuda, cuda:N).
        dtype: its precision (auto, float32, bfloat16, float16).
    """

    image: list[str] = field(default_factory=list)
    prompt: str = ""
    grounder: str = "glip"
    threshold: float = 0.3  # a picture for a person: fewer, surer boxes than the 0.05 AP is measured at
    device: str = "auto"
    dtype: str = "auto"

    def __post_init__(self) -> None:
        check_placement(self)


@dataclass
class EvalConfig:
    """``steervis ground eval``: COCO AP of a grounder on a scenes split or a COCO folder.

    Attributes:
        grounder: as for `steervis ground`.
        scenes: a scenes split (test-seen, test-unseen, test-styles, train).
        coco: a COCO folder (images + annotations.json), read instead of the scenes when given.
        part: main (all but the last tenth), val (the last tenth: choose settings there) or all.
        images: the first N images of the part (0: all).
        threshold: keep boxes scoring above this (low: AP rewards recall).
        nms_iou: boxes of one phrase overlapping a better one by more than this IoU are dropped (choose it on
            --part val).
        bootstrap: resamples of the images for the 95-percent intervals of AP and AP50 (0: none).
        prompts: names (COCO AP), descriptions (AP on descriptions without the class name, on names, and
            their harmonic mean) or absent (the false-positive rate on descriptions of absent objects).
        fp_threshold: the score at which an absent prompt's detection counts (absent; chosen on --part val).
        threshold_from: a validation run's JSON (prompts absent) to read that threshold from.
        descriptors: a YAML of LM-written descriptors per class, added to the pool's descriptions.
        device: where the model runs (auto, cpu, cuda, cuda:N).
        dtype: its precision (auto, float32, bfloat16, float16).
    """

    grounder: str = "glip"
    scenes: str = "test-unseen"
    coco: str = ""
    part: str = "main"  # the validation tenth stays for choosing thresholds and epochs
    images: int = 0
    threshold: float = 0.05  # AP is measured over the whole score range: keep the low ones
    nms_iou: float = 0.5  # the usual detection NMS overlap; scripts/ground-glip checks it on validation
    bootstrap: int = AP_RESAMPLES  # about a minute on a split, beside the many of grounding it
    prompts: str = "names"  # GLIP's evaluation; descriptions and absent are OmniLabel's (DesCo)
    fp_threshold: float | None = None  # chosen on the validation part, never on the images it is used on
    threshold_from: str = ""
    descriptors: str = ""
    device: str = "auto"
    dtype: str = "auto"

    def __post_init__(self) -> None:
        from steervis.errors import SteervisError

        check_placement(self)
        if self.prompts not in PROMPT_MODES:
            raise SteervisError(f"prompts={self.prompts!r} is not one of: {', '.join(PROMPT_MODES)}.")

    def folder(self) -> Path:
        from steervis.data.scenes import scenes_root

        return Path(self.coco).expanduser() if self.coco else scenes_root(self.scenes)


def detect(cfg: DetectConfig, out: str | Path) -> dict[str, Any]:
    """Ground ``cfg.prompt`` in each image; write ``<stem>.boxes.png`` and ``detections.json`` to ``out``."""
    from steervis.data.images import open_image
    from steervis.errors import SteervisError
    from steervis.ground.draw import draw_detections
    from steervis.ground.glip import InferSettings
    from steervis.ground.grounders import open_grounder
    from steervis.ground.prompts import split_phrases

    if not cfg.image:
        raise SteervisError("Give at least one --image to ground the prompt in.")
    split_phrases(cfg.prompt)  # a bad prompt fails before any model loads
    images = [open_image(path) for path in cfg.image]
    grounder = open_grounder(cfg.grounder, cfg.device, cfg.dtype, InferSettings(threshold=cfg.threshold))
    found = grounder.ground(images, cfg.prompt)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    result = {"grounder": cfg.grounder, "prompt": cfg.prompt, "images": []}
    for path, image, det in zip(cfg.image, images, found, strict=True):
        drawn = folder / f"{Path(path).stem}.boxes.png"
        draw_detections(image, det).save(drawn)
        result["images"].append({"image": str(path), "drawn": str(drawn), "detections": det.to_json()})
    (folder / "detections.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return result
