"""``steervis bench NAME``: throughput and memory of one part of steervis, printed as JSON.

Benchmarks are the entries of ``steervis.eval.benchmarks.BENCHMARKS``: plain functions taking keyword options
and returning a JSON-able dict. Their options are a config derived from the function's signature, set by
``--set key=value`` and ``--config FILE.yaml`` and checked before it runs; ``--print-config`` shows them and
runs nothing, as for ``steervis study``. Analyses of runs and models
(paired differences, text shift, the VLM sweep, ...) are ``steervis study NAME``.
"""

from __future__ import annotations

import argparse

from steervis.commands._targets import add_target_verb, run_target

EXAMPLE = """examples:
  steervis bench --list
  steervis bench describe                          # on minidomains, batch 32
  steervis bench describe --set limit=128 --set batch_size=16 --out bench.json
  steervis bench score --set 'sizes=[34]' --set prompts=4
  steervis bench score --print-config              # every option of the benchmark, with its default
"""


def run(args: argparse.Namespace) -> int:
    from steervis.errors import SteervisError
    from steervis.eval.benchmarks import BENCHMARKS
    from steervis.studies import STUDIES

    if args.opt:  # the spelling before every verb shared --set
        raise SteervisError(f"bench takes no --opt: write --set {args.opt[0]} (options are --set KEY=VALUE).")
    if args.target and args.target not in BENCHMARKS and args.target in STUDIES:
        raise SteervisError(f"`steervis bench {args.target}` is now `steervis study {args.target}` (an "
                            "analysis, not a benchmark; its --set options are the same).")
    return run_target("bench", BENCHMARKS, args)


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_target_verb(sub, "bench", help="measure throughput and memory of a part of steervis (e.g. "
                             "describe)", description=__doc__, epilog=EXAMPLE,
                             list_help="list the throughput and memory benchmarks")
    parser.add_argument("--opt", action="append", default=[], help=argparse.SUPPRESS)
    parser.set_defaults(func=run)
