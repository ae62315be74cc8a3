"""What every verb shares: the help formatter, the config options, and CLI flags derived from dataclasses.

Verbs import this module; ``steervis.cli`` imports the verbs. Nothing here imports ``cli``, so the two never
import each other.

Flags are derived from a config dataclass (:func:`add_field_flags`) rather than written by hand: the field's
type gives the parser, its docstring entry the help, its default the shown default, so a field renamed or
re-defaulted in the dataclass changes the CLI with it. A dozen lines of our own instead of a dependency
(jsonargparse) because verbs choose *which* fields become flags; the rest stay ``--set key=value``.

>>> import argparse
>>> from dataclasses import dataclass
>>> @dataclass
... class Toy:
...     '''A toy.
...
...     Attributes:
...         per_class: Images per class.
...     '''
...     per_class: int = 4
>>> parser = argparse.ArgumentParser()
>>> add_field_flags(parser, Toy, ["per_class"])
>>> field_values(parser.parse_args(["--per-class", "8"]), Toy, ["per_class"])
{'per_class': 8}
>>> field_values(parser.parse_args([]), Toy, ["per_class"])  # not given: None, so a --config file keeps its value
{'per_class': None}
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import types
import typing
from typing import Any, TypeVar

from steervis.config import dump_config, load_config

T = TypeVar("T")


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


def field_docs(cls: type) -> dict[str, str]:
    """``name → text`` from the ``Args:`` / ``Attributes:`` section of a dataclass docstring."""
    docs: dict[str, str] = {}
    current = None
    for line in (cls.__doc__ or "").splitlines():
        match = re.match(r"^\s{4,8}([\w /]+?):\s(.*)$", line)
        if match and len(line) - len(line.lstrip()) <= 8:
            names = [n.strip() for n in match.group(1).split("/")]
            for name in names:
                docs[name] = match.group(2).strip()
            current = names
        elif current and line.strip() and len(line) - len(line.lstrip()) > 8:
            for name in current:
                docs[name] += " " + line.strip()
        else:
            current = None
    return docs


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_field_flags(parser: argparse.ArgumentParser, cls: type, names: list[str],
                    help: dict[str, str] | None = None) -> None:
    """One ``--flag`` per field in ``names``; every default is None so unset flags never hide a config file."""
    hints, docs = typing.get_type_hints(cls), {**field_docs(cls), **(help or {})}
    defaults = {f.name: f for f in dataclasses.fields(cls)}
    for name in names:
        tp = hints[name]
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
        field = defaults[name]
        default = field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
        text = docs.get(name, "")
        if default is not None and default is not False and default not in ("", []):
            text += f" (default: {','.join(default) if isinstance(default, list) else default})"
        flag = "--" + name.replace("_", "-")
        if tp is bool:
            parser.add_argument(flag, dest=name, action="store_true", default=None, help=text)
        elif typing.get_origin(tp) in (list, tuple):
            # Repeatable and comma-separated alike: --exclude a --exclude b == --exclude a,b.
            parser.add_argument(flag, dest=name, type=_csv, action="extend", default=None, metavar="A,B", help=text)
        else:
            parser.add_argument(flag, dest=name, type=tp if tp in (int, float) else str, default=None, help=text)


def field_values(args: argparse.Namespace, cls: type, names: list[str]) -> dict[str, Any]:
    """The derived flags as a config layer (``None`` = not given; ``load_config`` skips it)."""
    return {name: getattr(args, name) for name in names}
