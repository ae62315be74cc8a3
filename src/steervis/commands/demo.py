"""``steervis demo``: the main job. Evaluate every method on minidomains with the quick preset."""

from __future__ import annotations

import argparse

from steervis.commands._options import HelpFormatter, add_config_options, resolve_config

EXAMPLE = """examples:
  steervis demo                          # = steervis evaluate --preset quick (what `make demo` runs)
  steervis demo --set max_per_class=3    # a smaller, faster demo
  steervis demo --print-config           # what it would run
"""


def run(args: argparse.Namespace) -> int:
    from steervis.commands.evaluate import print_result
    from steervis.eval import EvaluateConfig, evaluate

    args.preset = args.preset or (None if args.config else "quick")
    cfg = resolve_config(EvaluateConfig, args)
    if cfg is None:
        return 0
    print(f"steervis demo: {args.config or 'preset ' + repr(args.preset)}: methods {', '.join(cfg.methods)} on minidomains "
          f"({cfg.protocol}, held out: {', '.join(cfg.held_out) or 'every domain'})")
    print_result(evaluate(cfg))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="the main job: every method on minidomains, quick preset, report.html",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config_options(parser)  # --preset defaults to quick
    parser.set_defaults(func=run)
