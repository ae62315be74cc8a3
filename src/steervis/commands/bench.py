"""``steervis bench TARGET``: timed measurements of one part of steervis, printed as JSON.

Targets come from modules named ``steervis.<package>.bench`` that define ``register_bench(targets)`` and add
functions to the registry there (so a package adds a benchmark without touching this file). A target is a
plain function taking keyword options and returning a JSON-able dict; ``--opt key=value`` passes an option.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path

from steervis.cli import HelpFormatter
from steervis.registry import Registry

EXAMPLE = """examples:
  steervis bench --list
  steervis bench describe                          # on minidomains, batch 32
  steervis bench describe --opt limit=128 --opt batch_size=16 --out bench.json
"""


def bench_targets() -> Registry:
    """Every ``steervis.<package>.bench`` module's targets (their modules import nothing heavy at import)."""
    import steervis

    targets = Registry("bench target")
    for path in sorted(Path(steervis.__file__).parent.glob("*/bench.py")):
        module = importlib.import_module(f"steervis.{path.parent.name}.bench")
        if hasattr(module, "register_bench"):
            module.register_bench(targets)
    return targets


def run(args: argparse.Namespace) -> int:
    import yaml

    from steervis.errors import SteervisError

    targets = bench_targets()
    if args.list or not args.target:
        for name in targets.names():
            print(f"{name:<16} {targets.help(name)}")
        return 0
    options = {}
    for item in args.opt:
        if "=" not in item:
            raise SteervisError(f"--opt {item!r} must look like key=value (e.g. limit=64).")
        key, raw = item.split("=", 1)
        options[key.strip()] = yaml.safe_load(raw)
    try:
        result = targets.build(args.target, **options)
    except TypeError as err:
        raise SteervisError(f"bench {args.target}: {err}") from None
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="measure throughput of a part of steervis (e.g. describe)",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("target", nargs="?", help="what to measure (see --list)")
    parser.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE", help="option of the target")
    parser.add_argument("--out", metavar="FILE.json", help="also write the result here")
    parser.add_argument("--list", action="store_true", help="list bench targets")
    parser.set_defaults(func=run)
