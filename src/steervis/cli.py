"""The one ``steervis`` entry point: parse → call the library → print. Verbs live in ``steervis.commands``.

Each module in ``steervis/commands/`` defines ``register(subparsers)``; it is found automatically, so a new verb
is one new file. Command modules import nothing heavy at module level, so ``steervis --help`` is instant.

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
from typing import Any, TypeVar

from steervis import commands
from steervis.config import dump_config, load_config
from steervis.errors import SteervisError

T = TypeVar("T")

EPILOG = """examples:
  steervis setup                                  # prepare embedded models + build minidomains (idempotent)
  steervis models                                 # what can be loaded, what is cached
  steervis data build minidomains                 # the offline multi-domain benchmark
  steervis describe --data DIR                    # images → tags, attributes, captions (cached)
  steervis evaluate --preset quick                # every method, leave-one-domain-out, report.html
"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keep the worked examples' line breaks; show a default only where it says something."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, "", [], argparse.SUPPRESS) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def add_config_options(parser: argparse.ArgumentParser, presets: bool = True) -> None:
    """The options every configurable verb shares."""
    parser.add_argument("--config", metavar="FILE.yaml", help="YAML file with config values (see --print-config)")
    if presets:
        parser.add_argument("--preset", help="named preset shipped with steervis (e.g. quick, full)")
    parser.add_argument(
        "--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
        help="override one config value, e.g. --set train.lr=1e-4 (repeatable)",
    )
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")


def resolve_config(cls: type[T], args: argparse.Namespace, base: dict[str, Any] | None = None) -> T | None:
    """Build the verb's config from preset, file, flags and overrides; ``None`` if only printing it."""
    cfg = load_config(
        cls, path=args.config, preset=getattr(args, "preset", None), overrides=args.overrides, base=base
    )
    if args.print_config:
        print(dump_config(cfg), end="")
        return None
    return cfg


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="steervis",
        description="Visual recognition steered through language: describe images, let a language model decide.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages and show tracebacks")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
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
        result = args.func(args)
    except SteervisError as err:
        if args.verbose or os.environ.get("STEERVIS_TRACEBACK"):
            raise
        print(f"steervis: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("steervis: interrupted; finished work is kept, rerun the same command to resume.", file=sys.stderr)
        return 130
    return int(result or 0) if not is_dataclass(result) else 0


if __name__ == "__main__":
    sys.exit(main())
