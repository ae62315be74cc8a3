"""``steervis evaluate``: run every method on the same splits and write metrics, predictions and report.html.

Descriptions and image features are computed once and shared by all methods (content-addressed cache); a
killed run resumes where it stopped when the same command is run again.
"""

from __future__ import annotations

import argparse

from steervis.commands._options import (
    HelpFormatter,
    add_config_options,
    add_field_flags,
    field_values,
    resolve_config,
)

FLAGS = ["data", "protocol", "methods", "out", "follow_links"]  # EvaluateConfig fields that are also flags
EXAMPLE = """examples:
  steervis evaluate --preset quick                      # what `make demo` runs
  steervis evaluate --data ~/PACS --protocol dg --methods zeroshot,linear-probe
  steervis evaluate --protocol uda --set uda.source=[photo] --set uda.targets=[clipart]
  steervis evaluate --preset full --set 'method_options={"describe-decide": {"also": [generate]}}'
  steervis evaluate --preset full                       # every describer, baseline and VLM, as METHOD@LABEL
  steervis evaluate --methods description-probe,description-probe@react \\
      --set 'method_options={"description-probe@react": {"describe": {"matcher": "react-pool"}}}'
  steervis evaluate --preset quick --print-config       # show the resolved config and exit
"""


def print_result(result) -> None:
    print()
    print(result.markdown)
    for key, info in result.metrics["runs"].items():
        # UDA: target accuracy per self-training round (logged, never selected on)
        for r in info.get("rounds", []):
            acc = r.get("target_accuracy")
            print(f"{key} round {r['round']}: {r['pseudo']} pseudo-labels, target accuracy "
                  f"{'n/a' if acc is None else f'{100 * acc:.1f}%'}")
    print(f"\nrun folder: {result.run_dir}")
    print(f"report:     {result.run_dir / 'report.html'}")
    print(f"intervals:  {result.run_dir / 'accuracy_ci95.md'} (95 % bootstrap, per domain and for the mean)")


def run(args: argparse.Namespace) -> int:
    from steervis.eval import EvaluateConfig, evaluate

    cfg = resolve_config(EvaluateConfig, args, base=field_values(args, EvaluateConfig, FLAGS))
    if cfg is None:
        return 0
    print_result(evaluate(cfg))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.eval.config import EvaluateConfig

    parser = sub.add_parser("evaluate", help="compare methods on a multi-domain dataset (DG or UDA) + report",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_field_flags(parser, EvaluateConfig, FLAGS)
    parser.add_argument("--list-methods", action="store_true", help="list the registered methods and exit")
    parser.add_argument("--list-protocols", action="store_true",
                        help="list the registered protocols and exit")
    add_config_options(parser)
    parser.set_defaults(func=lambda a: list_methods() if a.list_methods else
                        list_protocols() if a.list_protocols else run(a))


def list_methods() -> int:
    from steervis.methods import METHODS

    print(METHODS.listing())
    return 0


def list_protocols() -> int:
    from steervis.eval.protocols import PROTOCOLS

    print(PROTOCOLS.listing())
    return 0
