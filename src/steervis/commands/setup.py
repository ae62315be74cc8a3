"""``steervis setup``: fill the cache once (embedded models prepared, minidomains built). Idempotent."""

from __future__ import annotations

import argparse
import time

from steervis.commands._options import HelpFormatter, add_config, config_from

EXAMPLE = """example:
  steervis setup                 # what `make demo` and `make test` run; a second run takes seconds
  steervis setup --skip-data     # models only
  steervis setup --print-config
"""


def run(args: argparse.Namespace) -> int:
    from steervis import zoo
    from steervis.paths import steervis_home

    cfg = config_from(args)
    if cfg is None:
        return 0
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
    if not cfg.skip_data:
        from steervis.data import build_minidomains

        root = build_minidomains()
        print(f"  data  minidomains              ready at {root}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.data.config import SetupConfig

    parser = sub.add_parser("setup",
                            help="prepare embedded models and build the minidomains benchmark (idempotent)",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config(parser, SetupConfig, ["skip_data"])
    parser.set_defaults(func=run)
