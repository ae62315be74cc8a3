"""The one ``steervis`` entry point: parse → call the library → print. Verbs live in ``steervis.commands``.

Each module in ``steervis/commands/`` defines ``register(subparsers)``; it is found automatically, so a new
verb is one new file (modules starting with ``_`` are shared helpers, not verbs). Imports go one way: cli
imports commands, commands never import cli. Command modules import nothing heavy at module level, so
``steervis --help`` is instant.

    steervis --help
    steervis data build minidomains
    steervis describe --data ~/.cache/steervis/data/minidomains --print-config
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from dataclasses import is_dataclass

from steervis import commands
from steervis.commands._options import HelpFormatter
from steervis.disk import check_writable, os_error_sentence
from steervis.errors import SteervisError

READ_ONLY_VERBS = {"models"}  # verbs that only look: they work on a read-only cache
# Free space the cache needs for any verb that writes to it: descriptions, features and prepared models of a
# task come to tens of MB; a verb refuses a nearly full disk up front instead of failing after its compute.
CACHE_SPACE = 64 << 20
EPILOG = """examples:
  steervis setup                                  # prepare embedded models + build minidomains (idempotent)
  steervis models                                 # what can be loaded, what is cached
  steervis data build minidomains                 # the offline multi-domain benchmark
  steervis describe --data DIR                    # images → tags, attributes, captions (cached)
  steervis evaluate --preset quick                # every method, leave-one-domain-out, report.html
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="steervis",
        description="Visual recognition steered through language: describe images, let a language model "
                    "decide.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages and show tracebacks")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        importlib.import_module(f"steervis.commands.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        if args.verb not in READ_ONLY_VERBS and not getattr(args, "print_config", False):
            check_cache()  # before any compute; printing a config or listing models writes nothing
        result = args.func(args)
    except (SteervisError, OSError) as err:  # an OSError here is the disk's or the OS's: one sentence too
        if args.verbose or os.environ.get("STEERVIS_TRACEBACK"):
            raise
        print(f"steervis: error: {err if isinstance(err, SteervisError) else os_error_sentence(err)}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("steervis: interrupted; finished work is kept, rerun the same command to resume.",
              file=sys.stderr)
        return 130
    return int(result or 0) if not is_dataclass(result) else 0


def check_cache() -> None:
    """Before any compute: the cache (``STEERVIS_HOME``) must be writable and have room."""
    from steervis.paths import home_path

    check_writable(home_path(), CACHE_SPACE, "the cache (STEERVIS_HOME)")


if __name__ == "__main__":
    sys.exit(main())
