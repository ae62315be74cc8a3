"""What ``steervis bench`` and ``steervis study`` share: a verb whose argument names a registered target, a
plain function taking keyword options and returning a JSON-able dict, which the verb prints as JSON.

A target's options are a config like every verb's: a dataclass derived from the target's signature (names,
type hints, defaults), set by ``--set key=value`` and ``--config FILE.yaml``, coerced and checked
(did-you-mean on a misspelt name; the counts targets share, ``batch_size``, ``limit``, ``k``, ..., against
their range) before the target runs; ``--print-config`` shows them and runs nothing. A target taking
``**options`` passes names it does not list on to what it calls.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import typing
from collections.abc import Callable
from typing import Any

from steervis.commands._options import (
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    Bounds,
    HelpFormatter,
    add_config_options,
    check_json_out,
    print_json,
)

# Options targets share, by name, and the values that mean something to every target taking them (a list,
# such as sizes, is checked item by item). Other options are checked by their type hint only.
OPTION_BOUNDS = {
    "batch_size": POSITIVE_INT, "num_workers": POSITIVE_INT, "limit": POSITIVE_INT, "k": POSITIVE_INT,
    "n": POSITIVE_INT, "draws": POSITIVE_INT, "per_domain": POSITIVE_INT, "max_new_tokens": POSITIVE_INT,
    "prompts": POSITIVE_INT, "sizes": POSITIVE_INT, "samples": NON_NEGATIVE_INT,
    "C": Bounds(0, low_open=True, integer=False),  # inverse regularisation strength: 0 would be infinite
}


def add_target_verb(sub: argparse._SubParsersAction, verb: str, help: str, description: str, epilog: str,
                    list_help: str) -> argparse.ArgumentParser:
    """The verb's parser: a positional target name, ``--list``, ``--out FILE.json`` and the config options."""
    parser = sub.add_parser(verb, help=help, description=description, epilog=epilog,
                            formatter_class=HelpFormatter)
    parser.add_argument("target", nargs="?", metavar="NAME", help="what to run (see --list)")
    parser.add_argument("--out", metavar="FILE.json", help="also write the result here")
    parser.add_argument("--list", action="store_true", help=list_help)
    add_config_options(parser, presets=False)
    return parser


def run_target(verb: str, registry: Any, args: argparse.Namespace) -> int:
    """List the registry, print a target's options, or run it and print (and ``--out``: write) its result."""
    from steervis.errors import SteervisError

    if args.list or not args.target:
        print(registry.listing())
        return 0
    target = registry.get(args.target)
    options = target_options(verb, args.target, target, args.config, args.overrides)
    if args.print_config:
        from steervis.config import dump_config

        print(dump_config(options), end="")
        return 0
    out = check_json_out(args.out, args.target)  # checked first: a target may run for an hour first
    missing = [f.name for f in dataclasses.fields(options) if f.metadata.get("required")
               and getattr(options, f.name) is None]
    if missing:
        raise SteervisError(f"{verb} {args.target} needs {', '.join(missing)}: give each as --set "
                            f"{missing[0]}=VALUE.")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(options):  # a **options mapping is passed on as the keywords it holds
        value = getattr(options, f.name)
        kwargs.update(value if f.metadata.get("passed_on") else {f.name: value})
    try:
        result = target(**kwargs)
    except TypeError as err:
        raise SteervisError(f"{verb} {args.target}: {err}") from None
    print_json(result, out)
    return 0


def options_class(name: str, target: Callable[..., Any]) -> type:
    """The target's keyword options as a dataclass: its signature's names, type hints and defaults (an option
    without a default is ``None`` until given, marked ``required``); ``**options`` become an open mapping.

    >>> def toy(k: int = 50, C: float = 0.1, sizes: tuple[int, ...] = (2,), **more): ...
    >>> [(f.name, f.type) for f in dataclasses.fields(options_class("toy", toy))][:2]
    [('k', <class 'int'>), ('C', <class 'float'>)]
    """
    hints = _hints(target)
    fields = []
    for p in inspect.signature(target).parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            continue
        if p.kind == p.VAR_KEYWORD:
            fields.append((p.name, dict[str, Any], dataclasses.field(default_factory=dict,
                                                                     metadata={"passed_on": True})))
            continue
        hint, required = hints.get(p.name, Any), p.default is p.empty
        default = None if required else p.default
        if isinstance(default, list | tuple | dict):  # a mutable default is copied per config (lists: YAML)
            value = list(default) if isinstance(default, tuple) else default
            spec = dataclasses.field(default_factory=lambda v=value: type(v)(v))
        else:
            spec = dataclasses.field(default=default, metadata={"required": required})
        fields.append((p.name, hint | None if required and hint is not Any else hint, spec))
    return dataclasses.make_dataclass(f"{name.title().replace('-', '')}Options", fields)


def target_options(verb: str, name: str, target: Callable[..., Any], path: str | None,
                   overrides: list[str]) -> Any:
    """The target's options from ``--config`` and ``--set``, checked (names, types, the shared counts' range);
    names a ``**options`` target passes on are kept as given."""
    from steervis.config import from_dict, load_yaml, merge, parse_overrides
    from steervis.errors import SteervisError

    cls = options_class(name, target)
    data = merge(load_yaml(path) if path else {}, parse_overrides(overrides))
    names = {f.name for f in dataclasses.fields(cls)}
    passed_on = next((f.name for f in dataclasses.fields(cls) if f.metadata.get("passed_on")), None)
    if passed_on:
        rest = {k: v for k, v in data.items() if k not in names}
        data = {**{k: v for k, v in data.items() if k in names},
                passed_on: merge(data.get(passed_on) or {}, rest)}
    options = from_dict(cls, data)
    given = {**vars(options), **(getattr(options, passed_on) if passed_on else {})}
    for key, bounds in OPTION_BOUNDS.items():
        value = given.get(key)
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is not None and item not in bounds:
                raise SteervisError(f"{verb} {name}: {key} must be {bounds.describe()}"
                                    f"{' each' if item is not value else ''}, not {item!r}.")
    return options


def _hints(target: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(target)
    # a hint naming what only type checkers import: the target checks its values
    except (NameError, TypeError):
        return {}
