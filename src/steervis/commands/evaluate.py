"""``steervis evaluate``: run every method on the same splits and write metrics, predictions and report.html.

Descriptions and image features are computed once and shared by all methods (content-addressed cache); a
killed run resumes where it stopped when the same command is run again.
"""

from __future__ import annotations

import argparse

from steervis.cli import HelpFormatter, add_config_options, resolve_config

EXAMPLE = """examples:
  steervis evaluate --preset quick                      # what `make demo` runs
  steervis evaluate --preset full                       # every domain held out, every method
  steervis evaluate --data ~/PACS --protocol dg --methods zeroshot,linear-probe
  steervis evaluate --protocol uda --set uda.source=[photo] --set uda.targets=[clipart]
  steervis evaluate --preset full --set 'method_options={"describe-decide": {"also": [generate]}}'
  steervis evaluate --preset quick --print-config       # show the resolved config and exit
"""


def print_result(result) -> None:
    print()
    print(result.markdown)
    for key, info in result.metrics["runs"].items():
        for r in info.get("rounds", []):  # UDA: target accuracy per self-training round (logged, never selected on)
            acc = r.get("target_accuracy")
            print(f"{key} round {r['round']}: {r['pseudo']} pseudo-labels, target accuracy "
                  f"{'n/a' if acc is None else f'{100 * acc:.1f}%'}")
    print(f"\nrun folder: {result.run_dir}")
    print(f"report:     {result.run_dir / 'report.html'}")


def run(args: argparse.Namespace) -> int:
    from steervis.eval import EvaluateConfig, evaluate

    base = {"data": args.data, "protocol": args.protocol, "out": args.out,
            "methods": args.methods.split(",") if args.methods else None}
    cfg = resolve_config(EvaluateConfig, args, base=base)
    if cfg is None:
        return 0
    print_result(evaluate(cfg))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("evaluate", help="compare methods on a multi-domain dataset (DG or UDA) + report",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("--data", help="dataset root (<domain>/<class>/<image>); default: minidomains")
    parser.add_argument("--protocol", choices=["dg", "uda"], help="leave-one-domain-out or self-training UDA")
    parser.add_argument("--methods", help="comma-separated method names (see `steervis evaluate --list-methods`)")
    parser.add_argument("--out", help="folder for run folders (default: runs)")
    parser.add_argument("--list-methods", action="store_true", help="list the registered methods and exit")
    add_config_options(parser)
    parser.set_defaults(func=lambda a: list_methods() if a.list_methods else run(a))


def list_methods() -> int:
    from steervis.methods import METHODS

    for name in METHODS.names():
        print(f"{name:<18} {METHODS.help(name)}")
    return 0
