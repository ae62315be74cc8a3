"""``steervis fit``: finetune describe-decide (VLLaVO) on the chosen domains of a folder; write an adapter.

The images are described (cached by the describe store), rendered into VLLaVO's template, and a LoRA adapter
is trained on them. The output folder holds ``adapter/``, the model card (base model, classes, template,
describe config, data hash, training metrics) and ``decide.yaml`` (the resolved config); ``steervis predict``
reads it.

Training runs on Hugging Face accelerate, so the same command trains data-parallel on several devices:
``accelerate launch --num_processes 4 -m steervis.cli fit ...`` (DDP; tested here with two CPU processes).
FSDP and DeepSpeed are accelerate configs (``accelerate config``); they are untested here.
"""

from __future__ import annotations

import argparse

from steervis.commands._options import HelpFormatter, add_config, add_follow_links, config_from

EXAMPLE = """examples:
  steervis fit --data ~/.cache/steervis/data/minidomains --domains photo,clipart --out runs/pc
  steervis fit --data DIR --out runs/x --preset decide-full --set train.epochs=1
  steervis fit --data DIR --out runs/x --describe-preset describe-vllavo   # CLIP + BLIP from the hub
  steervis fit --data DIR --out runs/x --overwrite    # refit into the same folder
  steervis fit --data DIR --out runs/x --print-config
"""


def run(args: argparse.Namespace) -> int:
    from steervis.errors import SteervisError

    config = config_from(args)
    if config is None:
        return 0
    if not args.data or not args.out:
        raise SteervisError("fit needs --data DIR (the images) and --out DIR (where the adapter goes).")
    from steervis.config import load_config
    from steervis.vllavo.describe import DescribeConfig

    dcfg = load_config(DescribeConfig, preset=args.describe_preset, overrides=args.describe_overrides)
    domains = [d.strip() for d in (args.domains or "").split(",") if d.strip()]
    from steervis.methods.finetune import fit

    card = fit(args.data, args.out, config, domains=domains, describe=dcfg, progress=not args.quiet,
               overwrite=args.overwrite, follow_links=args.follow_links)
    train = card.metrics
    print(f"adapter written to {args.out}: {len(card.decider.classes)} classes, {card.data.get('n_train')} "
          f"descriptions, {train.get('steps')} steps in {train.get('seconds')} s, loss "
          f"{train.get('loss_first'):.3f} → {train.get('loss_last'):.3f}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.vllavo.decide.config import DecideConfig

    parser = sub.add_parser("fit", help="finetune describe-decide (LoRA) on chosen domains; write an adapter",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("--data", help="dataset folder <root>/<domain>/<class>/<image>")
    parser.add_argument("--domains", default="", help="comma-separated training domains (default: all)")
    add_follow_links(parser)
    parser.add_argument("--out",
                        help="output folder for the adapter and its model card: new or empty (a folder "
                        "holding other files is refused, never replaced)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a previous `steervis fit` output at --out (only a steervis output)")
    parser.add_argument("--describe-preset", default="describe-offline",
                        help="describer preset (describe-offline, describe-vllavo, describe-tiny)")
    parser.add_argument("--describe-set", dest="describe_overrides", metavar="KEY=VALUE", action="append",
                        default=[], help="override one describer value, e.g. --describe-set tag_top_k=10")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config(parser, DecideConfig, presets=True)
    parser.set_defaults(func=run, preset="decide-quick")
