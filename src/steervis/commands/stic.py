"""``steervis stic``: self-training on image comprehension (STIC stage 1) for steervis' LLaVA.

``pairs`` has the model describe unlabelled pool images and training scenes twice (a good and a bad
description), ``gate`` checks on training scenes that the good ones hallucinate less, ``train`` runs DPO on
the pairs (resumable: started again with the same arguments it continues from ``<out>.checkpoint``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from steervis.commands._options import HelpFormatter, add_config

EXAMPLE = """examples:
  steervis stic pairs --preset stic-stage1             # 600 pairs from the stage-2 model
  steervis stic gate --preset stic-stage1 --out gate.json   # preferred vs dis-preferred on 100 scenes
  steervis stic train --preset stic-stage1             # DPO on the pairs → $STEERVIS_HOME/models/vlm/stic
  steervis stic pairs --model tiny-vlm --set pool_images=0 --set scene_images=4 --out /tmp/p.jsonl
"""
FLAGS = ["model", "seed"]


def _default_pairs() -> Path:
    from steervis.paths import cache_dir

    return cache_dir("stic") / "pairs.jsonl"


def _open(cfg):
    from steervis.zoo.vlms import open_vlm

    return open_vlm(cfg.model, device=cfg.device, dtype=cfg.dtype)


def pairs(args: argparse.Namespace) -> int:
    from steervis.commands._options import config_from
    from steervis.stic.pairs import collect_pairs, write_pairs

    cfg = config_from(args)
    if cfg is None:
        return 0
    made = collect_pairs(_open(cfg), cfg, progress=not args.quiet)
    path = write_pairs(made, Path(args.out).expanduser() if args.out else _default_pairs())
    print(json.dumps({"pairs": len(made), "out": str(path),
                      "how": {h: sum(p.how == h for p in made) for h in sorted({p.how for p in made})}}))
    return 0


def gate(args: argparse.Namespace) -> int:
    from steervis.commands._options import check_json_out, config_from, print_json
    from steervis.stic.gate import run_gate

    cfg = config_from(args)
    if cfg is None:
        return 0
    out = check_json_out(args.out, "gate")
    print_json({"model": cfg.model, **run_gate(_open(cfg), cfg, progress=not args.quiet)}, out)
    return 0


def train(args: argparse.Namespace) -> int:
    from steervis.commands._options import config_from
    from steervis.outputs import check_out_dir
    from steervis.paths import cache_dir
    from steervis.stic.pairs import check_written_by, read_pairs
    from steervis.stic.train import train_stic

    cfg = config_from(args)
    if cfg is None:
        return 0
    made = read_pairs(Path(args.pairs).expanduser() if args.pairs else _default_pairs())
    check_written_by(made, cfg.model)
    out = check_out_dir(args.out, overwrite=args.overwrite, kind="vlm") if args.out else cache_dir(
        "models", "vlm") / "stic"
    _, result = train_stic(_open(cfg), made, cfg, out=out, progress=not args.quiet)
    print(json.dumps({"out": str(out), "pairs": len(made), "resumed_from": result.resumed_from,
                      **result.summary()}, indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.stic.config import SticConfig

    parser = sub.add_parser("stic", help="STIC: self-train steervis' LLaVA on its own descriptions (DPO)",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    verbs = parser.add_subparsers(dest="stic_verb", metavar="ACTION", required=True)
    made = _verb(verbs, "pairs", pairs, "describe unlabelled images twice: preference pairs (JSON lines)",
                 SticConfig)
    made.add_argument("--out", metavar="FILE.jsonl", help="where the pairs go (default: $STEERVIS_HOME/stic/"
                      "pairs.jsonl)")
    checked = _verb(verbs, "gate", gate, "preferred vs dis-preferred descriptions on training scenes: "
                    "hallucination, recall, colour, 95 %% intervals", SticConfig)
    checked.add_argument("--out", metavar="FILE.json", help="also write the result here")
    trained = _verb(verbs, "train", train, "DPO on the pairs; saves a VLM folder", SticConfig)
    trained.add_argument("--pairs", metavar="FILE.jsonl", help="the pairs (default: $STEERVIS_HOME/stic/"
                         "pairs.jsonl)")
    trained.add_argument("--out", metavar="DIR", help="where to save (default: $STEERVIS_HOME/models/vlm/"
                         "stic); new or empty, or a previous output with --overwrite")
    trained.add_argument("--overwrite", action="store_true", help="replace a previous output at --out")


def _verb(verbs: argparse._SubParsersAction, name: str, func, text: str,
          cls: type) -> argparse.ArgumentParser:
    """One ``steervis stic`` action reading :class:`~steervis.stic.config.SticConfig`."""
    verb = verbs.add_parser(name, help=text, formatter_class=HelpFormatter)
    add_config(verb, cls, FLAGS, presets=True)
    verb.add_argument("--quiet", action="store_true", help="no progress bars")
    verb.set_defaults(func=func)
    return verb
