"""Typed dataclass configs: the single source of truth. YAML only for presets and ``--config`` files.

>>> from dataclasses import dataclass, field, make_dataclass
>>> @dataclass
... class Inner:
...     lr: float = 1e-3
>>> # make_dataclass keeps the nested type as an object (a doctest's class is not a module global).
>>> Outer = make_dataclass("Outer", [("name", str, "x"), ("inner", Inner, field(default_factory=Inner))])
>>> cfg = load_config(Outer, overrides=["inner.lr=0.5"])
>>> cfg.inner.lr
0.5
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from steervis.errors import SteervisError

T = TypeVar("T")
PRESET_DIR = Path(__file__).parent / "presets"


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def config_hash(cfg: Any, length: int = 16) -> str:
    """A stable short hash of a config (sorted JSON), used as a cache key."""
    blob = json.dumps(to_dict(cfg) if dataclasses.is_dataclass(cfg) else cfg, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


def _field_type(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        return "a list"
    if origin is dict or tp is dict or dataclasses.is_dataclass(tp):
        return "a mapping (e.g. {key: value})"
    return {int: "a whole number", float: "a number", bool: "true or false", str: "a string",
            type(None): "null"}.get(tp, getattr(tp, "__name__", str(tp)))


def _bad(tp: Any, value: Any, where: str) -> SteervisError:
    return SteervisError(f"Config value {where.rstrip('.')}={value!r} must be {_type_name(tp)}.")


def _coerce(tp: Any, value: Any, where: str) -> Any:
    """``value`` as the field type ``tp``; a value of another kind is one sentence, never a later
    traceback."""
    if tp is Any or isinstance(tp, typing.TypeVar):
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, dict):
            return from_dict(tp, value, where)
        if isinstance(value, tp):
            return value
        raise _bad(tp, value, where)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(inner) == 1 and dataclasses.is_dataclass(inner[0]) and isinstance(value, dict):
            return from_dict(inner[0], value, where)  # an optional section: its own did-you-mean holds
        for option in inner:
            try:
                return _coerce(option, value, where)
            except SteervisError:
                continue
        raise _bad(tp, value, where)
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]  # "a,b" on the command line
        if not isinstance(value, list | tuple):
            raise _bad(tp, value, where)
        args = typing.get_args(tp)
        item = args[0] if args and (origin is list or (len(args) == 2 and args[1] is Ellipsis)) else Any
        items = [_coerce(item, v, where) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise _bad(tp, value, where)
        args = typing.get_args(tp)
        return {k: _coerce(args[1], v, f"{where}{k}.") for k, v in value.items()} if args else value
    if tp in (bool, int, float, str):
        return _coerce_scalar(tp, value, where)
    return value


def _coerce_scalar(tp: type, value: Any, where: str) -> Any:
    """``value`` as ``bool``, ``int``, ``float`` or ``str``: numbers from strings (the command line, YAML's
    ``1e-4``), whole floats as ints, numbers as names; never a bool for a number."""
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _bad(tp, value, where)
    if tp is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise _bad(tp, value, where) from None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _bad(tp, value, where)
    if tp is float:
        if isinstance(value, str):
            try:
                return float(value)  # YAML reads 1e-4 as a string
            except ValueError:
                raise _bad(tp, value, where) from None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise _bad(tp, value, where)
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # a domain or class named "2017"
    raise _bad(tp, value, where)


def from_dict(cls: type[T], data: dict[str, Any], where: str = "") -> T:
    """Build a dataclass from a (nested) dict; unknown keys are an error with a did-you-mean hint."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    reject = getattr(cls, "reject_old_spelling", None)  # a renamed key is named in one sentence, new form too
    if reject is not None:
        reject(data or {}, where)
    kwargs = {}
    for key, value in (data or {}).items():
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise SteervisError(f"Unknown config key {where + key!r}.{hint}")
        kwargs[key] = _coerce(_field_type(cls, key), _over_default(fields[key], value), f"{where}{key}.")
    return cls(**kwargs)


def _over_default(f: dataclasses.Field, value: Any) -> Any:
    """A nested section given in part keeps its field's own default for the rest (e.g. a stage's LoRA shape,
    not the bare ``LoraSettings()``)."""
    if not isinstance(value, dict) or f.default_factory is dataclasses.MISSING:
        return value
    default = f.default_factory()
    return merge(to_dict(default), value) if dataclasses.is_dataclass(default) else value


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[leaf] = value


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base``, nested mappings merged key by key (a config layer over the one beneath)."""
    out = dict(base)
    for key, value in extra.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merge(out[key], value) if both else value
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise SteervisError(f"Config file {path} does not exist.")
    if not path.is_file():
        raise SteervisError(f"Config file {path} is a folder: give a YAML file (see --print-config).")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except UnicodeDecodeError:
        raise SteervisError(f"Config file {path} is not text: give a YAML file.") from None
    except yaml.YAMLError as err:
        raise SteervisError(f"Config file {path} is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise SteervisError(f"Config file {path} must hold a mapping of keys to values.")
    return data


def preset_path(name: str) -> Path:
    path = PRESET_DIR / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))
        raise SteervisError(f"Unknown preset {name!r}. Known presets: {', '.join(known)}")
    return path


def load_config(
    cls: type[T],
    path: str | Path | None = None,
    preset: str | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    base: dict[str, Any] | None = None,
) -> T:
    """Defaults < preset < ``--config`` file < ``base`` (CLI flags) < ``key=value`` overrides."""
    data: dict[str, Any] = {}
    if preset:
        data = merge(data, load_yaml(preset_path(preset)))
    if path:
        data = merge(data, load_yaml(path))
    if base:
        data = merge(data, {k: v for k, v in base.items() if v is not None})
    return from_dict(cls, merge(data, parse_overrides(overrides)))


def parse_overrides(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["train.lr=0.5", "also=[generate]"]`` → nested dict; values are parsed as YAML, then coerced to
    the field's type by :func:`from_dict` (YAML reads ``1e-4`` as a string; a float field converts it).

    >>> parse_overrides(["train.lr=0.5", "also=[generate]"])
    {'train': {'lr': 0.5}, 'also': ['generate']}
    """
    data: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise SteervisError(f"Override {item!r} must look like key=value (e.g. train.lr=1e-4).")
        key, raw = item.split("=", 1)
        _set_path(data, key.strip(), yaml.safe_load(raw))
    return data


def partial_config(cls: type, name: str, extra: list[tuple[str, Any, Any]] = ()) -> type:
    """A dataclass with every field of ``cls`` optional plus ``extra`` fields: a layer that names only what it
    sets.

    ``None`` means "not given" (so a preset beneath keeps its value); nested configs are dicts, checked
    against their dataclass on construction. ``given()`` returns the fields that were set, ready for
    ``load_config``'s ``base``.

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Train:
    ...     lr: float = 1e-3
    ...     epochs: int = 1
    >>> Layer = partial_config(Train, "TrainLayer")
    >>> Layer(epochs=3).given()
    {'epochs': 3}
    """
    own = []
    for f in dataclasses.fields(cls):
        tp = _field_type(cls, f.name)
        own.append((f.name, (dict[str, Any] if dataclasses.is_dataclass(tp) else tp) | None,
                    dataclasses.field(default=None)))
    names = [f.name for f in dataclasses.fields(cls)]

    def given(self: Any) -> dict[str, Any]:
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    def __post_init__(self: Any) -> None:
        from_dict(cls, self.given())  # unknown nested keys and bad values fail here, early

    return dataclasses.make_dataclass(name, [*extra, *own],
                                      namespace={"given": given, "__post_init__": __post_init__})


def dump_config(cfg: Any) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def save_config(cfg: Any, path: str | Path) -> Path:
    """Write the resolved config beside a run's outputs (atomically)."""
    from steervis.atomic import write_text

    return write_text(path, dump_config(cfg))
