"""``steervis demo``: the main job. Evaluate every method on minidomains with the quick preset."""

from __future__ import annotations

import argparse

from steervis.commands._options import HelpFormatter, add_config_options, resolve_config

EXAMPLE = """The language methods read the best describer that is built (react-pool, with its class tags and 5 captions
retrieved from the pool, once `steervis react build-pool` has run; else the embedded ConSE); the first line says
which. `--set describe.matcher=conse` picks one.

examples:
  steervis demo                          # = steervis evaluate --preset quick (what `make demo` runs)
  steervis demo --set max_per_class=3    # a smaller, faster demo
  steervis demo --print-config           # what it would run
"""


def run(args: argparse.Namespace) -> int:
    from steervis.commands.evaluate import print_result
    from steervis.describe.matchers import best_built_describer
    from steervis.eval import EvaluateConfig, evaluate

    args.preset = args.preset or (None if args.config else "quick")
    chosen = not args.config and not any(o.startswith("describe") for o in args.overrides or [])
    name, settings, missing = best_built_describer() if chosen else ("as configured", {}, [])
    cfg = resolve_config(EvaluateConfig, args, base={"describe": settings} if settings else None)
    if cfg is None:
        return 0
    print(f"steervis demo: describer {name}" + (f" (better, not built: {', '.join(missing)})" if missing else ""))
    print(f"steervis demo: {args.config or 'preset ' + repr(args.preset)}: methods {', '.join(cfg.methods)} on minidomains "
          f"({cfg.protocol}, held out: {', '.join(cfg.held_out) or 'every domain'})")
    print_result(evaluate(cfg))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="the main job: every method on minidomains, quick preset, report.html",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config_options(parser)  # --preset defaults to quick
    parser.set_defaults(func=run)
