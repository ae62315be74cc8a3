"""``steervis vlm``: train steervis' LLaVA (stage 1: projector on pool captions; stage 2: projector + LoRA on
instructions and easy-vqa) and measure it on easy-vqa (validation, diagnosis or test split) and the scenes
(questions per type, POPE).

Training is resumable: a killed run started again with the same arguments continues from its last checkpoint
(``<out>.checkpoint``). Models go to ``STEERVIS_HOME/models/vlm/stage1|stage2`` unless ``--out`` says
otherwise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from steervis.commands._options import (
    FRACTION,
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    HelpFormatter,
    add_config,
    add_config_options,
    add_field_flags,
    positive_int,
    print_json,
)

EXAMPLE = """examples:
  steervis vlm train --preset llava-stage1      # the reported stage 1: projector on 800 pool captions
  steervis vlm train --preset llava-stage2      # the reported stage 2: projector + LoRA, 4,430 conversations
  steervis vlm train --stage 2 --print-config   # --stage N = --preset llava-stageN; show its settings
  steervis vlm train --stage 1 --set pool_items=200 --set train.max_steps=5 --out /tmp/s1   # a smoke run
  steervis vlm train --stage 1 --tower clip:openai/clip-vit-large-patch14-336   # LLaVA's tower (from the hub)
  steervis vlm engine --items 200                        # the embedded LM writes instructions from pool texts
  steervis vlm train --stage 2 --set engine_items=200    # stage 2 with the engine's grounded conversations
  steervis vlm eval --model stage2 --split diagnosis     # the fixed 1,000 validation questions
  steervis vlm eval --model stage2 --images 0 --per-image 0   # easy-vqa's whole test split (9,673 questions)
  steervis vlm eval --model stage2 --text-only           # the same questions without the image
  steervis vlm scenes --model stage2 --split test-unseen  # scenes questions per type and POPE (val part)
"""


FLAGS = ["init", "lm", "tower", "projector"]  # StageSettings fields that are also flags


def _settings(args: argparse.Namespace) -> Any:
    """The stage's settings: ``--stage N`` is the preset ``llava-stageN`` (the reported recipe)."""
    from steervis.commands._options import field_values, resolve_config
    from steervis.errors import SteervisError
    from steervis.llava.train import StageSettings

    if args.stage is not None:
        if args.preset:
            raise SteervisError(f"--stage {args.stage} is the preset llava-stage{args.stage}: give --stage "
                                "or --preset, not both.")
        args.preset = f"llava-stage{args.stage}"
    return resolve_config(StageSettings, args, base=field_values(args, StageSettings, FLAGS))


# Room a trained stage needs: a 135M LM's LoRA adapter, the projector and the trainer's checkpoint (weights
# plus Adam's two moments) stay under 200 MB; 256 MB refuses a full disk before hours of training.
TRAIN_SPACE = 256 << 20


def train(args: argparse.Namespace) -> int:
    from steervis.disk import check_writable, output_lock
    from steervis.llava.model import trained_dir
    from steervis.outputs import check_out_dir

    settings = _settings(args)
    if settings is None:  # --print-config
        return 0
    inputs = [init_dir(settings.init)] if settings.stage == 2 else []  # stage 2 reads its stage-1 folder
    # the default folder lies in the cache, which steervis owns; a folder the user named is checked
    if args.out:
        check_out_dir(args.out, overwrite=args.overwrite, kind="vlm", inputs=inputs)
    out = Path(args.out).expanduser().resolve() if args.out else trained_dir(settings.stage)
    check_writable(out, TRAIN_SPACE, "the trained model")
    with output_lock(out):
        if args.out:
            # a writer may have finished
            check_out_dir(args.out, overwrite=args.overwrite, kind="vlm", inputs=inputs)
        return train_into(args, settings, out)


def init_dir(init: str) -> Path:
    """The folder stage 2 starts from: a path, or the trained stage a name (``stage1``, the default) stands
    for."""
    from steervis.errors import SteervisError
    from steervis.llava.model import trained_dir
    from steervis.registry import is_explicit_path

    name = init
    if name in ("stage1", "stage2"):
        return trained_dir(int(name[-1]))
    if not is_explicit_path(name):  # a bare name is a registered VLM, never a folder that happens to exist
        raise SteervisError(f"--init {name}: give stage1, stage2 or a folder written as a path (./{name}).")
    return Path(name)


def train_into(args: argparse.Namespace, settings: Any, out: Path) -> int:
    import torch

    from steervis.llava.model import VLM, VLMConfig
    from steervis.llava.train import build_items, train_stage
    from steervis.llava.vlms import open_vlm

    torch.set_num_threads(args.threads) if args.threads else None
    if settings.stage == 1:
        vlm = VLM.create(VLMConfig(lm=settings.lm, tower=settings.tower, projector=settings.projector),
                         seed=settings.train.seed)
    else:
        vlm = open_vlm(settings.init)
    items = build_items(settings)
    _, result = train_stage(vlm, items, settings, out=out, progress=not args.quiet)
    summary = result.summary()
    # a rerun after a kill says so
    print(json.dumps({"stage": settings.stage, "out": str(out), "conversations": len(items),
                      "resumed_from": result.resumed_from, **summary}, indent=2))
    return 0


def engine(args: argparse.Namespace) -> int:
    from steervis.commands._options import config_from
    from steervis.llava.engine import EngineSettings, engine_frame, write_instructions

    cfg = config_from(args)
    if cfg is None:
        return 0
    settings = EngineSettings(lm=cfg.lm, max_new_tokens=cfg.max_new_tokens, min_overlap=cfg.min_overlap,
                              batch_size=cfg.batch_size, seed=cfg.seed)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    items, stats = write_instructions(engine_frame(cfg.items, cfg.seed), settings, progress=not args.quiet)
    shown = [{"path": it.path, "turns": it.turns} for it in items[: cfg.show]]
    print(json.dumps({"pool_items": cfg.items, "conversations": len(items), "store": settings.id,
                      "kinds": stats, "examples": shown}, indent=2, ensure_ascii=False))
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from steervis.commands._options import check_json_out, config_from
    from steervis.llava.evaluate import easy_vqa_accuracy
    from steervis.llava.vlms import open_vlm

    cfg = config_from(args)
    if cfg is None:
        return 0
    out = check_json_out(args.out, "easy-vqa")  # before the model is loaded and asked
    vlm = open_vlm(cfg.model, device=cfg.device, dtype=cfg.dtype)
    fmt = {} if cfg.format_prompt else {"suffix": ""}
    result = easy_vqa_accuracy(vlm, images=cfg.images or None, text_only=cfg.text_only, split=cfg.split,
                               per_image=cfg.per_image or None, stated=cfg.stated_yes_no, **fmt)
    print_json({"model": str(cfg.model or "latest"), **result}, out)
    return 0


def scenes(args: argparse.Namespace) -> int:
    from steervis.commands._options import check_json_out, config_from
    from steervis.llava.scenes_eval import scene_rows, scenes_accuracy
    from steervis.llava.vlms import open_vlm

    cfg = config_from(args)
    if cfg is None:
        return 0
    out = check_json_out(args.out, "scenes")
    scene_rows(cfg.split, cfg.part, 1)  # a missing split is one sentence before the model loads
    vlm = open_vlm(cfg.model, device=cfg.device, dtype=cfg.dtype)
    result = scenes_accuracy(vlm, cfg.split, cfg.part, cfg.questions, cfg.seed)
    print_json({"model": str(cfg.model or "latest"), **result}, out)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.llava.config import EngineRunConfig, VLMEvalConfig, VLMScenesConfig
    from steervis.llava.train import StageSettings

    parser = sub.add_parser("vlm", help="train steervis' LLaVA (two stages) and measure it on easy-vqa",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    verbs = parser.add_subparsers(dest="vlm_verb", metavar="ACTION", required=True)
    tr = verbs.add_parser("train", help="train stage 1 or 2 (resumable)", formatter_class=HelpFormatter)
    tr.add_argument("--stage", type=int, choices=[1, 2],
                    help="the reported recipe of stage N: the same as --preset llava-stageN")
    add_field_flags(tr, StageSettings, FLAGS)
    tr.add_argument("--out", metavar="DIR", help="where to save (default: $STEERVIS_HOME/models/vlm/stageN); "
                    "new or empty, never a folder holding other files")
    tr.add_argument("--overwrite", action="store_true", help="replace a previous `vlm train` output at --out")
    add_config_options(tr)  # --config, --preset, --set (e.g. train.max_steps=50), --print-config
    tr.add_argument("--threads", type=positive_int, help="torch CPU threads (default: torch's choice)")
    tr.add_argument("--quiet", action="store_true", help="no progress bars")
    tr.set_defaults(func=train)
    en = verbs.add_parser("engine",
                          help="the data engine: the embedded LM writes stage-2 instructions from pool "
                          "texts (cached; stage 2 reads them with --set engine_items=N)",
                          formatter_class=HelpFormatter)
    add_config(en, EngineRunConfig, ["items", "lm", "max_new_tokens", "min_overlap", "batch_size", "seed",
                                      "show"],
               bounds={"items": POSITIVE_INT, "max_new_tokens": POSITIVE_INT, "min_overlap": FRACTION,
                       "batch_size": POSITIVE_INT, "show": NON_NEGATIVE_INT})
    en.add_argument("--threads", type=positive_int, help="torch CPU threads (default: torch's choice)")
    en.add_argument("--quiet", action="store_true", help="no progress bar")
    en.set_defaults(func=engine)
    ev = verbs.add_parser("eval", help="easy-vqa greedy exact match on the val, diagnosis or test split",
                          formatter_class=HelpFormatter)
    add_config(ev, VLMEvalConfig, ["model", "split", "images", "per_image", "text_only", "format_prompt",
                                   "stated_yes_no"],
               bounds={"images": NON_NEGATIVE_INT, "per_image": NON_NEGATIVE_INT})
    ev.add_argument("--out", metavar="FILE.json", help="also write the result here")
    ev.set_defaults(func=evaluate)
    sc = verbs.add_parser("scenes", help="the scenes' questions per type (count, colour, position, "
                          "existence) and POPE, on a split's val or main part", formatter_class=HelpFormatter)
    add_config(sc, VLMScenesConfig, ["model", "split", "part", "questions", "seed"],
               bounds={"questions": NON_NEGATIVE_INT})
    sc.add_argument("--out", metavar="FILE.json", help="also write the result here")
    sc.set_defaults(func=scenes)
