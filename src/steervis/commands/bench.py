"""``steervis bench TARGET``: timed measurements of one part of steervis, printed as JSON.

Targets are the entries of ``steervis.eval.benchmarks.BENCHMARKS``. A target is a plain function taking keyword
options and returning a JSON-able dict; ``--opt key=value`` passes an option, parsed exactly as ``--set``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from steervis.commands._options import HelpFormatter

EXAMPLE = """examples:
  steervis bench --list
  steervis bench describe                          # on minidomains, batch 32
  steervis bench describe --opt limit=128 --opt batch_size=16 --out bench.json
"""


def run(args: argparse.Namespace) -> int:
    from steervis.config import parse_overrides
    from steervis.errors import SteervisError
    from steervis.eval.benchmarks import BENCHMARKS

    if args.list or not args.target:
        print(BENCHMARKS.listing())
        return 0
    target = BENCHMARKS.get(args.target)
    out = Path(args.out).expanduser() if args.out else None
    if out is not None and out.is_dir():  # checked first: a bench can run for an hour before it writes
        raise SteervisError(f"--out {out} is a folder: give a file name, e.g. {out / (args.target + '.json')}.")
    try:
        result = target(**parse_overrides(args.opt))
    except TypeError as err:
        raise SteervisError(f"bench {args.target}: {err}") from None
    text = json.dumps(result, indent=2)
    print(text)
    if out is not None:
        from steervis.atomic import write_text

        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, text + "\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="measure throughput of a part of steervis (e.g. describe)",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("target", nargs="?", help="what to measure (see --list)")
    parser.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE", help="option of the target")
    parser.add_argument("--out", metavar="FILE.json", help="also write the result here")
    parser.add_argument("--list", action="store_true", help="list bench targets")
    parser.set_defaults(func=run)
