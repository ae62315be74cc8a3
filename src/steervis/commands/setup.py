"""``steervis setup``: fill the cache once (embedded models prepared, minidomains built). Idempotent."""

from __future__ import annotations

import argparse
import time

from steervis.commands._options import HelpFormatter

EXAMPLE = """example:
  steervis setup                 # what `make demo` and `make test` run; a second run takes seconds
  steervis setup --skip-data     # models only
"""


def run(args: argparse.Namespace) -> int:
    from steervis import zoo
    from steervis.paths import steervis_home

    print(f"steervis cache: {steervis_home()}")
    for name in zoo.MODELS.names():
        entry = zoo.entry(name)
        if entry.prepare is None:
            continue
        # optional: prepared once its package is installed
        if not entry.is_cached() and not entry.installed():
            print(f"  model {name:<24} skipped, not installed: {entry.source}")
            continue
        state = "cached" if entry.is_cached() else "preparing"
        start = time.perf_counter()
        entry.prepare()
        print(f"  model {name:<24} {state} ({time.perf_counter() - start:.1f} s)")
    if not args.skip_data:
        from steervis.data import build_minidomains

        root = build_minidomains()
        print(f"  data  minidomains              ready at {root}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("setup",
                            help="prepare embedded models and build the minidomains benchmark (idempotent)",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("--skip-data", action="store_true",
                        help="prepare models only, do not build minidomains")
    parser.set_defaults(func=run)
