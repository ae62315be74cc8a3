"""``steervis demo``: the main job. Evaluate every method on minidomains with the quick preset."""

from __future__ import annotations

import argparse
from typing import Any

from steervis.commands._options import HelpFormatter, add_config_options, resolve_config

EXAMPLE = """The language methods read the best describer that is built (react-pool, with its class tags and \
5 captions
retrieved from the pool, once `steervis react build` has run; else the embedded ConSE); the first line \
says
which. `--set describe.matcher=conse` picks one.

examples:
  steervis demo                          # = steervis evaluate --preset quick (what `make demo` runs)
  steervis demo --set max_per_class=3    # a smaller, faster demo
  steervis demo --print-config           # what it would run
"""


# Describers in the order the rematch measured them (docs/RESULTS.md, "VLLaVO rematched"): the first one built
# is what `steervis demo` describes with. Each: (name, its describe preset, how to build it).
DESCRIBERS = (
    # react-pool's best describer (the preset describe-react-pool): zero-shot-ranked class tags, vocabulary
    # tags, attributes and 5 pool captions; the pool it needs is the one react-pool was trained on, so it is
    # built whenever react-pool is.
    ("react-pool", "describe-react-pool", "`steervis react build`"),
    ("conse", None, "embedded"),
)


def best_built_describer() -> tuple[str, dict[str, Any], list[str]]:
    """The best describer whose models are built here, its describe settings, and the better ones not
    built."""
    from steervis.card import has_card
    from steervis.config import load_yaml, preset_path
    from steervis.react.matchers import react_pool_dir

    missing = []
    for name, preset, how in DESCRIBERS:
        if name != "react-pool" or has_card(react_pool_dir()):
            return name, load_yaml(preset_path(preset)) if preset else {}, missing
        missing.append(f"{name} ({how})")
    raise AssertionError("conse is always built")  # unreachable: the embedded describer is the last entry


def run(args: argparse.Namespace) -> int:
    from steervis.commands.evaluate import print_result
    from steervis.eval import EvaluateConfig, evaluate

    args.preset = args.preset or (None if args.config else "quick")
    chosen = not args.config and not any(o.startswith("describe") for o in args.overrides or [])
    name, settings, missing = best_built_describer() if chosen else ("as configured", {}, [])
    cfg = resolve_config(EvaluateConfig, args, base={"describe": settings} if settings else None)
    if cfg is None:
        return 0
    print(f"steervis demo: describer {name}"
          + (f" (better, not built: {', '.join(missing)})" if missing else ""))
    labels = ", ".join(r.label for r in cfg.runs)
    print(f"steervis demo: {args.config or 'preset ' + repr(args.preset)}: runs {labels} "
          f"on minidomains ({cfg.protocol}, held out: {', '.join(cfg.held_out) or 'every domain'})")
    print_result(evaluate(cfg))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo",
                            help="the main job: every method on minidomains, quick preset, report.html",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config_options(parser)  # --preset defaults to quick
    parser.set_defaults(func=run)
