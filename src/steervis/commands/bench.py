"""``steervis bench TARGET``: timed measurements of one part of steervis, printed as JSON.

Targets are the entries of ``steervis.eval.benchmarks.BENCHMARKS``. A target is a plain function taking
keyword options and returning a JSON-able dict; ``--opt key=value`` passes an option, parsed exactly as
``--set``. Each option is checked before the target runs: its name against the target's signature, its value
against the type hint and, for the counts targets share (``batch_size``, ``limit``, ``k``, ...), against their
range.
"""

from __future__ import annotations

import argparse
import inspect
import json
import types
import typing
from collections.abc import Callable
from typing import Any

from steervis.commands._options import NON_NEGATIVE_INT, POSITIVE_INT, Bounds, HelpFormatter, check_json_out

EXAMPLE = """examples:
  steervis bench --list
  steervis bench describe                          # on minidomains, batch 32
  steervis bench describe --opt limit=128 --opt batch_size=16 --out bench.json
  steervis bench vlm-sweep --opt sizes=[2,5,10] --opt draws=3
"""
# Options bench targets share, by name, and the values that mean something to every target taking them (a
# list, such as sizes, is checked item by item). Other options are checked by their type hint only.
OPTION_BOUNDS = {
    "batch_size": POSITIVE_INT, "num_workers": POSITIVE_INT, "limit": POSITIVE_INT, "k": POSITIVE_INT,
    "n": POSITIVE_INT, "draws": POSITIVE_INT, "per_domain": POSITIVE_INT, "max_new_tokens": POSITIVE_INT,
    "prompts": POSITIVE_INT, "sizes": POSITIVE_INT, "samples": NON_NEGATIVE_INT,
    "C": Bounds(0, low_open=True, integer=False),  # inverse regularisation strength: 0 would be infinite
}


def run(args: argparse.Namespace) -> int:
    from steervis.config import parse_overrides
    from steervis.errors import SteervisError
    from steervis.eval.benchmarks import BENCHMARKS

    if args.list or not args.target:
        print(BENCHMARKS.listing())
        return 0
    target = BENCHMARKS.get(args.target)
    out = check_json_out(args.out, args.target)  # checked first: a bench can run for an hour before it writes
    texts = {item.split("=", 1)[0].strip(): item.split("=", 1)[1] for item in args.opt if "=" in item}
    options = checked_options(args.target, target, parse_overrides(args.opt), texts)
    try:
        result = target(**options)
    except TypeError as err:
        raise SteervisError(f"bench {args.target}: {err}") from None
    text = json.dumps(result, indent=2)
    print(text)
    if out is not None:
        from steervis.atomic import write_text

        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, text + "\n")
    return 0


def checked_options(name: str, target: Callable[..., Any], options: dict[str, Any],
                    texts: dict[str, str] | None = None) -> dict[str, Any]:
    """``options`` as ``target`` takes them ("1e-4" read as a number where one is expected, ``run=2024`` kept
    as the text typed, from ``texts``, where text is expected); a name it does not take, a missing one, a
    value of the wrong type or out of range is one sentence.

    >>> def toy(k: int = 50, C: float = 0.1, classes: str | list[str] | None = None): ...
    >>> checked_options("toy", toy, {"k": 3, "C": "1e-4", "classes": "a,b"})
    {'k': 3, 'C': 0.0001, 'classes': 'a,b'}
    >>> checked_options("toy", toy, {"k": -1})
    Traceback (most recent call last):
    ...
    steervis.errors.SteervisError: bench toy: --opt k must be a whole number of at least 1, not -1.
    """
    from steervis.errors import SteervisError

    params = inspect.signature(target).parameters
    named = {p.name: p for p in params.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    unknown = [key for key in options if key not in named]
    if unknown and not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        raise SteervisError(f"bench {name} has no option {unknown[0]!r}: it takes "
                            f"{', '.join(named) or 'none'}.")
    missing = [key for key, p in named.items() if p.default is p.empty and key not in options]
    if missing:
        raise SteervisError(f"bench {name} needs {', '.join(missing)}: give each as --opt "
                            f"{missing[0]}=VALUE.")
    hints = _hints(target)
    out = {}
    for key, value in options.items():
        hint = hints.get(key, Any)
        value = out[key] = _coerced(value, hint, (texts or {}).get(key))
        if not _matches(value, hint):
            raise SteervisError(f"bench {name}: --opt {key} must be {_type_name(hint)}, not {value!r}.")
        bounds = OPTION_BOUNDS.get(key)
        for item in (value if isinstance(value, list | tuple) else [value]):
            if bounds is not None and item is not None and item not in bounds:
                raise SteervisError(f"bench {name}: --opt {key} must be {bounds.describe()}"
                                    f"{' each' if item is not value else ''}, not {item!r}.")
    return out


def _hints(target: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(target)
    # a hint naming what only type checkers import: the target checks its values
    except (NameError, TypeError):
        return {}


def _matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` (as YAML read it) fits the type hint ``hint``; a hint not read here fits anything."""
    origin, args = typing.get_origin(hint), [a for a in typing.get_args(hint) if a is not Ellipsis]
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arm) for arm in args)
    if hint is type(None):
        return value is None
    if hint in (int, float):  # a bool is an int to Python, never to a user; a whole number is a float too
        return isinstance(value, hint if hint is int else int | float) and not isinstance(value, bool)
    if origin in (list, tuple):
        return isinstance(value, list | tuple) and all(_matches(item, args[0]) for item in value if args)
    return isinstance(value, hint) if isinstance(hint, type) and hint is not Any else True


def _coerced(value: Any, hint: Any, typed: str | None = None) -> Any:
    """YAML reads ``1e-4`` as text and ``2024`` as a number: each as the hint wants it (``typed``: as
    typed)."""
    if typed is not None and not _matches(value, hint) and _matches("", hint):
        return typed
    if isinstance(value, str) and not _matches(value, hint) and _matches(0.5, hint):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(dict.fromkeys(_type_name(arm) for arm in typing.get_args(hint)))
    if origin in (list, tuple):
        numbers = any(arm in (int, float) for arm in typing.get_args(hint))
        return f"a list ({'[2, 5]' if numbers else '[a, b]'})"
    names = {int: "a whole number", float: "a number", str: "text", bool: "true or false", type(None): "null"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="measure throughput of a part of steervis (e.g. describe)",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("target", nargs="?", help="what to measure (see --list)")
    parser.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE",
                        help="option of the target")
    parser.add_argument("--out", metavar="FILE.json", help="also write the result here")
    parser.add_argument("--list", action="store_true", help="list bench targets")
    parser.set_defaults(func=run)
