"""What every verb shares: the help formatter, the config options, and CLI flags derived from dataclasses.

Verbs import this module; ``steervis.cli`` imports the verbs. Nothing here imports ``cli``, so the two never
import each other.

Every verb reads one typed dataclass (:func:`add_config` at registration, :func:`config_from` in ``run``):
defaults < ``--preset`` < ``--config FILE.yaml`` < derived flags < ``--set key=value``, and ``--print-config``
prints the result and does no work. Flags are derived from the dataclass (:func:`add_field_flags`): the
field's type gives the parser, its docstring entry the help, its default the shown default, so a field
renamed or re-defaulted in the dataclass changes the CLI with it.

Why our own core and not jsonargparse (4.53 with ``add_class_arguments``, tried on a dataclass shaped like
``DecideConfig``: scalars beside a nested ``train`` section): it does parse dotted nested flags
(``--train.lr 0.5``), read YAML (``1e-4`` as a float) and leave unset keys out (``defaults=False``), but
four things the verbs rely on it cannot say without wrapping every error it raises:
(1) an unknown key is ``unrecognized arguments: --train.lrr 0.5`` on the command line and ``Group 'train'
does not accept option 'lrr'`` in YAML, with no did-you-mean; (2) a bad value is two lines naming
``<class 'int'>`` (``Parser key "train.epochs": Expected a <class 'int'>. Got value: 1.5``), not one
sentence; (3) every field becomes a flag, and ``skip=`` removes a field from the config altogether, so "a
few flags, every other field by ``--set``" is not expressible; (4) flags are spelt as fields
(``--batch_size``; ``--batch-size`` is unrecognized and no parsing setting changes it), while the documented
CLI spells ``--batch-size``. Presets by name would stay ours either way. The core is ``config.from_dict``
(coercion, did-you-mean) plus the few functions below.

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
>>> add_config(parser, Toy, ["per_class"])
>>> config_from(parser.parse_args(["--per-class", "8", "--set", "per_class=9"]))
Toy(per_class=9)
>>> # not given: None, so a --config file keeps its value
>>> field_values(parser.parse_args([]), Toy, ["per_class"])
{'per_class': None}
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from steervis.commands._bounds import (  # noqa: F401  (the verbs' argparse types, shared)
    FRACTION,
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    Bounds,
    fraction,
    non_negative_int,
    positive_int,
)
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
    parser.add_argument("--config", metavar="FILE.yaml",
                        help="YAML file with config values (see --print-config)")
    if presets:
        parser.add_argument("--preset", help="named preset shipped with steervis (e.g. quick, full)")
    parser.add_argument(
        "--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
        help="override one config value, e.g. --set train.lr=1e-4 (repeatable)",
    )
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")


def add_follow_links(parser: argparse.ArgumentParser) -> None:
    """``--follow-links`` of the verbs that read a ``--data`` folder (evaluate derives it from its config)."""
    parser.add_argument("--follow-links", action="store_true",
                        help="also read symlinks in --data that lead outside it; links that stay inside it "
                        "are always followed (a link out can pull held-out or foreign images into training)")


def check_json_out(path: str | None, example: str = "result") -> Path | None:
    """``--out FILE.json`` of a verb that prints a JSON result, checked before the work (which may be
    long)."""
    from steervis.errors import SteervisError

    if not path:
        return None
    out = Path(path).expanduser()
    if out.is_dir():
        raise SteervisError(f"--out {out} is a folder: give a file name, e.g. {out / (example + '.json')}.")
    if out.suffix.lower() != ".json":  # the result is JSON; another suffix would misname what is in the file
        raise SteervisError(f"--out {out} must end in .json (the result is JSON), e.g. "
                            f"{out.with_suffix('.json')}.")
    if any(p.exists() and not p.is_dir() for p in out.parents):
        raise SteervisError(f"--out {out}: a parent of it is a file, not a folder.")
    from steervis.disk import MB, check_writable

    check_writable(out, MB, "the result")  # a JSON result is kilobytes: 1 MB says "the disk is not full"
    return out


def resolve_config(cls: type[T], args: argparse.Namespace, base: dict[str, Any] | None = None,
                   adjust: Callable[[T], T] | None = None) -> T | None:
    """Build the verb's config from preset, file, flags and overrides (then ``adjust``, e.g. a selection of
    its runs); ``None`` if only printing it."""
    cfg = load_config(
        cls, path=args.config, preset=getattr(args, "preset", None), overrides=args.overrides, base=base
    )
    if adjust is not None:
        cfg = adjust(cfg)
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


def csv_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_field_flags(parser: argparse.ArgumentParser, cls: type, names: list[str],
                    help: dict[str, str] | None = None, bounds: dict[str, Bounds] | None = None) -> None:
    """One ``--flag`` per field in ``names``; every default is None so unset flags never hide a config
    file. A bool field that defaults to true is turned off by ``--no-<name>``; ``bounds`` check a number."""
    hints, docs = typing.get_type_hints(cls), {**field_docs(cls), **(help or {})}
    defaults = {f.name: f for f in dataclasses.fields(cls)}
    for name in names:
        tp = hints[name]
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
        field = defaults[name]
        default = (field.default_factory() if field.default_factory is not dataclasses.MISSING
                   else field.default)
        text = docs.get(name, "")
        if default is not None and default is not False and default not in ("", []) and tp is not bool:
            text += f" (default: {','.join(map(str, default)) if isinstance(default, list) else default})"
        flag = "--" + name.replace("_", "-")
        if tp is bool:
            negate = default is True  # a setting on by default: the flag turns it off
            parser.add_argument("--no-" + flag[2:] if negate else flag, dest=name, default=None,
                                action="store_false" if negate else "store_true", help=text)
        elif typing.get_origin(tp) in (list, tuple):
            # Repeatable and comma-separated alike: --exclude a --exclude b == --exclude a,b.
            parser.add_argument(flag, dest=name, type=csv_list, action="extend", default=None, metavar="A,B",
                                help=text)
        else:
            kind = (bounds or {}).get(name) or (tp if tp in (int, float) else str)
            parser.add_argument(flag, dest=name, type=kind, default=None, help=text)


def add_config(parser: argparse.ArgumentParser, cls: type, flags: list[str] = (), presets: bool = False,
               bounds: dict[str, Bounds] | None = None, positional: str | None = None,
               help: dict[str, str] | None = None, metavar: str | None = None) -> None:
    """A verb reads ``cls``: ``flags`` become ``--flags`` (``positional`` a positional argument), every field
    takes ``--set``, and ``--config``, ``--print-config`` (and ``--preset``) are added. ``bounds`` are checked
    on the command line and again on the resolved config, so ``--set batch_size=0`` is refused as well."""
    if positional:
        many = typing.get_origin(typing.get_type_hints(cls)[positional]) in (list, tuple)
        parser.add_argument(positional, nargs="*" if many else "?", default=None,
                            metavar=metavar or positional.upper(), help=(help or {}).get(positional)
                            or field_docs(cls).get(positional))
    add_field_flags(parser, cls, list(flags), help, bounds)
    add_config_options(parser, presets)
    names = [*([positional] if positional else []), *flags]
    parser.set_defaults(config_spec=(cls, names, dict(bounds or {})))


def config_from(args: argparse.Namespace, base: dict[str, Any] | None = None,
                print_config: bool = True) -> Any:
    """The verb's config (defaults < preset < file < ``base`` < flags < ``--set``), its numbers checked;
    ``None`` after printing it for ``--print-config`` (unless ``print_config`` is false: the verb prints)."""
    from steervis.errors import SteervisError

    cls, names, bounds = args.config_spec
    flags = {k: v for k, v in field_values(args, cls, names).items() if v is not None and v != []}
    cfg = load_config(cls, path=args.config, preset=getattr(args, "preset", None), overrides=args.overrides,
                      base={**(base or {}), **flags})
    for name, allowed in bounds.items():
        value = getattr(cfg, name)
        for item in value if isinstance(value, list | tuple) else [value]:
            problem = None if item is None else allowed.problem(item)
            if problem:
                raise SteervisError(f"Config value {name}: {problem}")
    if args.print_config and print_config:
        print(dump_config(cfg), end="")
        return None
    return cfg


def field_values(args: argparse.Namespace, cls: type, names: list[str]) -> dict[str, Any]:
    """The derived flags as a config layer (``None`` = not given; ``load_config`` skips it)."""
    return {name: getattr(args, name) for name in names}


def print_json(result: Any, out: Path | None) -> None:
    """Print a command's JSON result, and write it to ``out`` as well (atomically) when one was given."""
    import json

    from steervis.atomic import write_text

    text = json.dumps(result, indent=2)
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, text + "\n")
