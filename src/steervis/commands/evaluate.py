"""``steervis evaluate``: run every method on the same splits and write metrics, predictions and report.html.
With ``--protocol detection`` it scores grounders (``detection.grounders``) by COCO AP on a scenes split or a
COCO folder instead, and the report draws their boxes on a few scenes.

Descriptions and image features are computed once and shared by all methods (content-addressed cache); a
killed run resumes where it stopped when the same command is run again.
"""

from __future__ import annotations

import argparse

from steervis.commands._options import (
    HelpFormatter,
    add_config_options,
    add_field_flags,
    csv_list,
    field_values,
    resolve_config,
)

FLAGS = ["data", "protocol", "out", "follow_links"]  # EvaluateConfig fields that are also flags
EXAMPLE = """examples:
  steervis evaluate --preset quick                      # what `make demo` runs
  steervis evaluate --data ~/PACS --protocol dg --runs zeroshot,linear-probe
  steervis evaluate --protocol uda --set uda.source=[photo] --set uda.targets=[clipart]
  steervis evaluate --protocol few-shot --runs vrl --set few_shot.k=4 --set few_shot.seeds=[0,1,2]
  steervis evaluate --protocol detection --set detection.grounders=[glip,crop]   # AP on test-unseen, drawn
  steervis evaluate --protocol detection --set detection.scenes=test-styles --set detection.part=val
  steervis evaluate --protocol detection --set detection.grounders=[tiny-crop] --set detection.coco=my-coco
  steervis evaluate --preset full                       # every describer, baseline and VLM: 32 labelled runs
  steervis evaluate --preset full --runs zeroshot,describe-decide@react-pool-pool5-3ep   # two of its rows
  steervis evaluate --set 'runs=[{method: describe-decide, options: {also: [generate]}}]'
  steervis evaluate --set 'runs=[{method: description-probe, describe: {matcher: react-pool}}]'
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
    table, scope = result.intervals
    print(f"intervals:  {result.run_dir / table} (95 % bootstrap, {scope})")


def run(args: argparse.Namespace) -> int:
    from steervis.errors import SteervisError
    from steervis.eval import EvaluateConfig, evaluate
    from steervis.eval.config import select_runs

    if args.methods is not None:
        raise SteervisError("--methods is now --runs LABEL,... (the config's runs by label, or method "
                            "names), and a labelled run is a `runs` entry: "
                            "--set 'runs=[{label: L, method: M}]'.")
    cfg = resolve_config(EvaluateConfig, args, base=field_values(args, EvaluateConfig, FLAGS),
                         adjust=(lambda c: select_runs(c, args.runs)) if args.runs else None)
    if cfg is None:
        return 0
    print_result(evaluate(cfg))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.eval.config import EvaluateConfig

    parser = sub.add_parser("evaluate", help="compare methods on a multi-domain dataset (DG, UDA, "
                            "few-shot), or grounders on scenes (detection) + report",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_field_flags(parser, EvaluateConfig, FLAGS)
    parser.add_argument("--runs", type=csv_list, metavar="A,B",
                        help="only these runs of the config, by label, in this order; a method name that "
                        "labels no run is a run of that method with its default options")
    parser.add_argument("--methods", help=argparse.SUPPRESS)  # the older spelling: answered with the new one
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
