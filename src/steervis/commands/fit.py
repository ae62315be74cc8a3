"""``steervis fit``: finetune describe-decide (VLLaVO) on the chosen domains of a folder; write an adapter.

The images are described (cached by the describe store), rendered into VLLaVO's template, and a LoRA adapter is
trained on them. The output folder holds ``adapter/``, ``card.json`` (base model, classes, template, describe
config, data hash, training metrics) and ``decide.yaml`` (the resolved config); ``steervis predict`` reads it.

Training runs on Hugging Face accelerate, so the same command trains data-parallel on several devices:
``accelerate launch --num_processes 4 -m steervis.cli fit ...`` (DDP; tested here with two CPU processes).
FSDP and DeepSpeed are accelerate configs (``accelerate config``); they are untested here.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from steervis.cli import HelpFormatter, add_config_options, resolve_config

EXAMPLE = """examples:
  steervis fit --data ~/.cache/steervis/data/minidomains --domains photo,clipart --out runs/pc
  steervis fit --data DIR --out runs/x --preset decide-full --set train.epochs=1
  steervis fit --data DIR --out runs/x --describe-preset describe-vllavo   # CLIP + BLIP from the hub
  steervis fit --data DIR --out runs/x --print-config
"""


def fit(data: str | Path, out: str | Path, config: Any, domains: list[str] | None = None,
        describe: Any = None, progress: bool = True) -> dict[str, Any]:
    """Finetune on ``domains`` of the folder ``data`` and save to ``out``; returns the model card.

    Args:
        data: ``<root>/<domain>/<class>/<image>`` folder.
        out: Output folder (replaced atomically when it exists).
        config: A ``DecideConfig``.
        domains: Training domains (default: all).
        describe: A ``DescribeConfig`` or its values (default: the describer's defaults).
        progress: Show progress bars.
    """
    from steervis.config import save_config
    from steervis.data import load_folder
    from steervis.errors import SteervisError
    from steervis.lm.adapters import read_card
    from steervis.lm.train import is_main_process
    from steervis.methods.describe_decide import DescribeDecide
    from steervis.methods.texts import describe_config, describe_texts

    folder = load_folder(data, domains=domains or None, progress=progress)
    for domain in domains or []:
        if not (folder.frame["domain"] == domain).any():
            raise SteervisError(f"Domain {domain!r} in {folder.root} has no usable images.")
    dcfg = describe if describe is not None and not isinstance(describe, dict) else describe_config(describe)
    texts = describe_texts(dcfg, config.components, progress=progress)
    clf = DescribeDecide(texts, config, describe_config=dcfg, progress=progress)
    clf.fit(folder.frame, folder.classes)
    if not is_main_process():  # under `accelerate launch`, rank 0 alone writes the adapter
        return {"classes": folder.classes, "train": clf.decider.card.get("train", {})}
    clf.save(out, data=str(folder.root), domains=folder.domains, n_images=len(folder.frame),
             image_hash=_frame_hash(folder.frame))
    save_config(config, Path(out) / "decide.yaml")
    return read_card(out)


def _frame_hash(frame: Any) -> str:
    import hashlib

    return hashlib.sha256("\n".join(sorted(frame["sha256"] + frame["class"])).encode()).hexdigest()[:16]


def run(args: argparse.Namespace) -> int:
    from steervis.decide.config import DecideConfig
    from steervis.errors import SteervisError

    config = resolve_config(DecideConfig, args)
    if config is None:
        return 0
    if not args.data or not args.out:
        raise SteervisError("fit needs --data DIR (the images) and --out DIR (where the adapter goes).")
    from steervis.config import load_config
    from steervis.describe import DescribeConfig

    dcfg = load_config(DescribeConfig, preset=args.describe_preset, overrides=args.describe_overrides)
    domains = [d.strip() for d in (args.domains or "").split(",") if d.strip()]
    card = fit(args.data, args.out, config, domains=domains, describe=dcfg, progress=not args.quiet)
    train = card.get("train", {})
    print(f"adapter written to {args.out}: {len(card['classes'])} classes, {card.get('n_train')} descriptions, "
          f"{train.get('steps')} steps in {train.get('seconds')} s, loss {train.get('loss_first'):.3f} → "
          f"{train.get('loss_last'):.3f}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("fit", help="finetune describe-decide (LoRA) on chosen domains; write an adapter",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("--data", help="dataset folder <root>/<domain>/<class>/<image>")
    parser.add_argument("--domains", default="", help="comma-separated training domains (default: all)")
    parser.add_argument("--out", help="output folder for the adapter and its model card")
    parser.add_argument("--describe-preset", default="describe-offline",
                        help="describer preset (describe-offline, describe-vllavo, describe-tiny)")
    parser.add_argument("--describe-set", dest="describe_overrides", metavar="KEY=VALUE", action="append",
                        default=[], help="override one describer value, e.g. --describe-set tag_top_k=10")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_options(parser)
    parser.set_defaults(func=run, preset="decide-quick")
