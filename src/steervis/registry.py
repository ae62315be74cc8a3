"""One small registry pattern for models, backends, methods and datasets.

Entries are factories, registered by decorator or lazily as ``"module:attr"`` strings so that importing
steervis does not import torch-heavy modules until a name is used.

>>> from steervis.registry import Registry
>>> shapes = Registry("shape")
>>> @shapes.register("square")
... def square(side=1):
...     return side * side
>>> shapes.get("square")(side=3)
9
>>> shapes.get("sqare")
Traceback (most recent call last):
...
steervis.errors.SteervisError: Unknown shape 'sqare'. Did you mean 'square'? Known: square
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import Any

from steervis.errors import SteervisError


class Registry:
    """Name → factory, with lazy ``"module:attr"`` entries and did-you-mean errors."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Callable[..., Any] | str] = {}
        self._help: dict[str, str] = {}

    def register(self, name: str, target: Callable[..., Any] | str | None = None, help: str = ""):
        """Register ``target`` under ``name``; without a target, returns a decorator."""

        def add(obj: Callable[..., Any] | str):
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            doc = help or (getattr(obj, "__doc__", None) or "").strip().splitlines()[:1]
            self._help[name] = doc if isinstance(doc, str) else (doc[0] if doc else "")
            return obj

        return add if target is None else add(target)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        return sorted(self._entries)

    def help(self, name: str) -> str:
        return self._help.get(name, "")

    def get(self, name: str) -> Callable[..., Any]:
        if name not in self._entries:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise SteervisError(f"Unknown {self.kind} {name!r}.{hint} Known: {', '.join(self.names())}")
        entry = self._entries[name]
        if isinstance(entry, str):
            module, attr = entry.split(":")
            entry = getattr(importlib.import_module(module), attr)
            self._entries[name] = entry
        return entry

    def build(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.get(name)(*args, **kwargs)
