"""``steervis ground``: locate things by words (detection as phrase grounding, GLIP). With ``--image`` and
``--prompt`` it draws the boxes it finds and writes them as JSON; ``train`` trains the GLIP-style model on the
scenes (or any COCO folder), resumable after a kill; ``eval`` measures a grounder's COCO AP.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from steervis.commands._options import (
    FRACTION,
    NON_NEGATIVE_INT,
    HelpFormatter,
    add_config,
    add_config_options,
    positive_int,
    print_json,
)

EXAMPLE = """examples:
  steervis ground --image photo.jpg --prompt "a dog. a guitar."           # the model trained here
  steervis ground --image photo.jpg --prompt "a dog." --grounder crop --out boxes   # the ConSE baseline
  steervis ground --image photo.jpg --prompt "a cat." --grounder google/owlv2-base-patch16-ensemble
  steervis ground train --preset ground-glip                 # the recipe, on the training scenes
  steervis ground train --preset ground-glip --set model.fusion=true --out runs/glip-fusion
  steervis ground train --set coco=my-coco-folder --out runs/mine  # any COCO folder
  steervis ground eval --scenes test-unseen --out ap.json    # COCO AP of the trained model
  steervis ground eval --grounder crop --scenes test-unseen --images 100
  steervis ground eval --scenes train --part val             # the validation tenth: choose settings here
  steervis ground eval --grounder ./runs/glip-fusion --coco my-coco-folder
  steervis ground train --preset ground-desco --out runs/desco      # DesCo: descriptions, absent objects
  steervis ground eval --prompts descriptions --scenes test-unseen  # AP on descriptions, names, harmonic mean
  steervis ground eval --prompts absent --scenes test-unseen --part val --out val.json   # choose a threshold
  steervis ground eval --prompts absent --scenes test-unseen --threshold-from val.json   # false positives
"""


def detect(args: argparse.Namespace) -> int:
    from steervis.commands._options import config_from
    from steervis.ground.run import detect as run_detect

    cfg = config_from(args)
    if cfg is None:
        return 0
    result = run_detect(cfg, args.out or "ground-out")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def train(args: argparse.Namespace) -> int:
    from steervis.commands._options import resolve_config
    from steervis.ground.grounders import trained_dir
    from steervis.ground.run import train_grounder
    from steervis.ground.train import GroundSettings

    settings = resolve_config(GroundSettings, args)
    if settings is None:  # --print-config
        return 0
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    out = Path(args.out).expanduser() if args.out else trained_dir()
    summary = train_grounder(settings, out, progress=not args.quiet, cache_text=args.cache_text,
                             recipe=args.preset or "")
    print(json.dumps({"out": str(out), **summary}, indent=2))
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from steervis.commands._options import check_json_out, config_from
    from steervis.ground.coco import read_coco, select_part
    from steervis.ground.detection_log import log_path
    from steervis.ground.omni import evaluate_prompts

    cfg = config_from(args)
    if cfg is None:
        return 0
    out = check_json_out(args.out, "ground-ap")
    coco = select_part(read_coco(cfg.folder()), cfg.part, cfg.images or None)
    kept = log_path(out) if out and cfg.prompts == "names" else None  # the COCO results, resumable
    result = {"grounder": cfg.grounder, "data": str(coco.folder), "part": cfg.part,
              **({"detections": kept.name} if kept else {}),  # beside the result, wherever both move
              **evaluate_prompts(cfg, coco, progress=not args.quiet, detections=kept)}
    print_json(result, out)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.ground.run import DetectConfig, EvalConfig

    parser = sub.add_parser("ground", help="locate things by words: boxes for a prompt's phrases (GLIP)",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config(parser, DetectConfig, ["image", "prompt", "grounder", "threshold"],
               bounds={"threshold": FRACTION})
    parser.add_argument("--out", metavar="DIR", help="folder for the drawn images and detections.json "
                        "(default: ./ground-out)")
    parser.set_defaults(func=detect)
    verbs = parser.add_subparsers(dest="ground_verb", metavar="ACTION", required=False)
    tr = verbs.add_parser("train", help="train the GLIP-style model (resumable)",
                          formatter_class=HelpFormatter)
    add_config_options(tr)  # --config, --preset (ground-glip), --set (e.g. train.max_steps=20)
    tr.add_argument("--out", metavar="DIR", help="where to save (default: $STEERVIS_HOME/models/ground/glip)")
    tr.add_argument("--cache-text", action="store_true",
                    help="keep each step's prompt token states on disk (~1 MB a step, ~10 GB for the "
                    "preset) so a second run on the same prompts (the other fusion arm, a sweep) runs three "
                    "times faster")
    tr.add_argument("--threads", type=positive_int, help="torch CPU threads (default: torch's choice)")
    tr.add_argument("--quiet", action="store_true", help="no progress bars")
    tr.set_defaults(func=train)
    ev = verbs.add_parser("eval", help="COCO AP@[.5:.95] and AP50 on a scenes split or a COCO folder",
                          formatter_class=HelpFormatter)
    add_config(ev, EvalConfig, ["grounder", "scenes", "coco", "part", "images", "threshold", "nms_iou",
                                "bootstrap", "prompts", "fp_threshold", "threshold_from"],
               bounds={"images": NON_NEGATIVE_INT, "threshold": FRACTION, "nms_iou": FRACTION,
                       "bootstrap": NON_NEGATIVE_INT, "fp_threshold": FRACTION})
    ev.add_argument("--out", metavar="FILE.json", help="also write the result here; with name prompts the "
                    "detections go beside it batch by batch (FILE.detections.jsonl, COCO results rows) and a "
                    "killed run given the same command resumes from them")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    ev.set_defaults(func=evaluate)
