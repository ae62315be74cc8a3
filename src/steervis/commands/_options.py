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
>>> # not given: None, so a --config file keeps its value
>>> field_values(parser.parse_args([]), Toy, ["per_class"])
{'per_class': None}
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
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
                    help: dict[str, str] | None = None) -> None:
    """One ``--flag`` per field in ``names``; every default is None so unset flags never hide a config
    file."""
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
        if default is not None and default is not False and default not in ("", []):
            text += f" (default: {','.join(default) if isinstance(default, list) else default})"
        flag = "--" + name.replace("_", "-")
        if tp is bool:
            parser.add_argument(flag, dest=name, action="store_true", default=None, help=text)
        elif typing.get_origin(tp) in (list, tuple):
            # Repeatable and comma-separated alike: --exclude a --exclude b == --exclude a,b.
            parser.add_argument(flag, dest=name, type=csv_list, action="extend", default=None, metavar="A,B",
                                help=text)
        else:
            parser.add_argument(flag, dest=name, type=tp if tp in (int, float) else str, default=None,
                                help=text)


def field_values(args: argparse.Namespace, cls: type, names: list[str]) -> dict[str, Any]:
    """The derived flags as a config layer (``None`` = not given; ``load_config`` skips it)."""
    return {name: getattr(args, name) for name in names}


@dataclasses.dataclass(frozen=True)
class Bounds:
    """The numbers a value may take, and how to say so in one sentence; called with a string, an argparse
    ``type``.

    >>> POSITIVE_INT("8")
    8
    >>> POSITIVE_INT("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 0 is out of range: give a whole number of at least 1.
    >>> Bounds(0, 1, low_open=True, integer=False).describe()
    'a number above 0 and at most 1'
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low itself is out, e.g. top-p in (0, 1]
    integer: bool = True

    def describe(self) -> str:
        noun = "a whole number" if self.integer else "a number"
        if self.low is not None and self.high is not None and not self.low_open:
            return f"{noun} from {self.low:g} to {self.high:g}"
        low = (None if self.low is None
               else (f"above {self.low:g}" if self.low_open else f"of at least {self.low:g}"))
        high = None if self.high is None else f"{'and' if low else 'of'} at most {self.high:g}"
        return " ".join(part for part in (noun, low, high) if part)

    def __contains__(self, value: object) -> bool:
        kinds = int if self.integer else int | float
        if isinstance(value, bool) or not isinstance(value, kinds):
            return False  # a bool is an int to Python, never to a user
        if isinstance(value, float) and not math.isfinite(value):
            return False  # nan slips past every comparison (and isfinite overflows on a 400-digit int)
        below = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        return not below and not (self.high is not None and value > self.high)

    def problem(self, value: object) -> str | None:
        """``None`` if ``value`` is allowed, else what is wrong with it and what to give, in one sentence."""
        if value in self:
            return None
        wrong_kind = (isinstance(value, bool)
                      or not isinstance(value, int | float if not self.integer else int))
        return (f"{value!r} is "
                f"{'not ' + self.describe() if wrong_kind else 'out of range: give ' + self.describe()}.")

    def __call__(self, text: str) -> int | float:
        try:
            value: int | float = int(text) if self.integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole' if self.integer else 'a'} number: "
                                             f"give {self.describe()}.") from None
        problem = self.problem(value)
        if problem is not None:
            raise argparse.ArgumentTypeError(problem)
        return value


POSITIVE_INT = Bounds(1)  # counts of things that must happen at least once: batch sizes, images, tokens, k
NON_NEGATIVE_INT = Bounds(0)  # counts that may be zero: extra samples, examples shown
FRACTION = Bounds(0, 1, integer=False)  # shares and probabilities, both ends included


def positive_int(text: str) -> int:
    """argparse ``type=`` for a whole number of at least 1."""
    return int(POSITIVE_INT(text))


def non_negative_int(text: str) -> int:
    """argparse ``type=`` for a whole number of at least 0."""
    return int(NON_NEGATIVE_INT(text))


def fraction(text: str) -> float:
    """argparse ``type=`` for a number from 0 to 1."""
    return float(FRACTION(text))
