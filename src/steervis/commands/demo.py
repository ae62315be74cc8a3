"""``steervis demo``: the main job. Evaluate every method on minidomains with the quick preset."""

from __future__ import annotations

import argparse

from steervis.cli import HelpFormatter

EXAMPLE = """example:
  steervis demo        # = steervis evaluate --preset quick (what `make demo` runs after setup)
"""


def run(args: argparse.Namespace) -> int:
    from steervis.commands.evaluate import print_result
    from steervis.config import load_config
    from steervis.eval import EvaluateConfig, evaluate

    cfg = load_config(EvaluateConfig, preset=args.preset)
    print(f"steervis demo: preset {args.preset!r}: methods {', '.join(cfg.methods)} on minidomains "
          f"({cfg.protocol}, held out: {', '.join(cfg.held_out) or 'every domain'})")
    print_result(evaluate(cfg))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="the main job: every method on minidomains, quick preset, report.html",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("--preset", default="quick", help="evaluation preset to run")
    parser.set_defaults(func=run)
