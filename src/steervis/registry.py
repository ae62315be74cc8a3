"""One small registry pattern for every named thing: models, matchers, captioners, taggers, methods,
protocols, datasets, benchmarks, studies (and projectors, with LLaVA).

Entries register by decorator or lazily as ``"module:attr"`` strings, so importing steervis does not import
torch-heavy modules until a name is used. A registry may declare two rules of its own:

* ``hub``: name → entry for names that are not registered but are spelt as a Hugging Face hub id
  (``org/name``) or as a path to a local checkpoint folder (``./ckpt``, ``/abs/ckpt``). Any other unknown
  name is a did-you-mean error, never a silent fallthrough (a bare name is never looked up on disk).
* ``check``: called with ``(name, entry)`` when an entry is resolved (at registration for objects, at first
  use for lazy strings): the place to check a contract.

Entries may carry metadata (``register(..., kind="clip")``), read back with :meth:`Registry.meta`. An entry
trained here says what it is now through an ``identity()`` attribute (:meth:`Registry.identity`).

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
>>> models = Registry("model", hub=lambda name: f"hub:{name}")
>>> models.get("openai/clip-vit-base-patch32")
'hub:openai/clip-vit-base-patch32'
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from collections.abc import Callable
from typing import Any

from steervis.errors import SteervisError

# org/name as the hub spells it: ASCII letters, digits, '-', '_', '.'; exactly one slash; neither part starts
# with '.', and the id does not end in '.'. Dots inside are fine (llava-hf/llava-1.5-7b-hf): never a file
# suffix.
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_-][A-Za-z0-9_.-]*(?<!\.)")


def is_hub_id(name: str) -> bool:
    """Whether ``name`` is spelt as a Hugging Face hub id, ``org/name`` (its grammar; whether it exists is the
    hub's business).

    >>> [is_hub_id(n) for n in ("llava-hf/llava-1.5-7b-hf", "openai/clip-vit-base-patch32", "tiny-clip")]
    [True, True, False]
    >>> [is_hub_id(n) for n in ("./x.pt", "/abs/model", "~/x", "a/b/c", "model.safetensors", "org/name.")]
    [False, False, False, False, False, False]
    """
    return bool(HUB_ID.fullmatch(name))


def is_explicit_path(name: str) -> bool:
    """Whether ``name`` is written as a path: absolute, starting with ``./``, ``../`` or ``~``, with more
    slashes than a hub id's one or a backslash, or one file name with a dot. Decided by spelling alone: what
    exists on disk never changes what a name means.

    >>> [is_explicit_path(n) for n in ("/ckpt", "./ckpt", "~/ckpt", "runs/vlm/stage2", "model.safetensors")]
    [True, True, True, True, True]
    >>> [is_explicit_path(n) for n in ("ckpt", "tiny-llava", "llava-hf/llava-1.5-7b-hf")]
    [False, False, False]
    """
    bare_file = "/" not in name and "." in name  # no registered name has a dot, and a hub id has a slash
    return (name.startswith(("./", "../", "~")) or os.path.isabs(name) or name.count("/") > 1 or "\\" in name
            or bare_file)


def looks_like_hub_id(name: str) -> bool:
    """``org/name`` (a Hugging Face hub id), or a saved checkpoint's folder written as a path (``./ckpt``,
    ``/abs/ckpt``; the hub rule says so if it is missing). Decided by spelling: a bare name is never read as
    a folder, so a stray local folder that shares a name cannot change what a name means."""
    return is_hub_id(name) or is_explicit_path(name)


def load_target(spec: str) -> Any:
    """The object a lazy ``"module:attr"`` string names, imported now."""
    module, attr = spec.split(":")
    return getattr(importlib.import_module(module), attr)


class Registry:
    """Name → entry, with lazy ``"module:attr"`` entries, an optional hub rule and contract check."""

    def __init__(self, kind: str, hub: Callable[[str], Any] | None = None,
                 check: Callable[[str, Any], None] | None = None):
        self.kind = kind
        self.hub = hub
        self.check = check
        self._entries: dict[str, Any] = {}
        self._help: dict[str, str] = {}
        self._meta: dict[str, dict[str, Any]] = {}

    def register(self, name: str, target: Any = None, help: str = "", **meta: Any):
        """Register ``target`` under ``name``; without a target, returns a decorator."""

        def add(obj: Any) -> Any:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            if not isinstance(obj, str) and self.check is not None:
                self.check(name, obj)
            self._entries[name] = obj
            lines = ((getattr(obj, "__doc__", None) or "").strip().splitlines() if not isinstance(obj, str)
                     else [])
            self._help[name] = help or (lines[0] if lines else "")
            self._meta[name] = meta
            return obj

        return add if target is None else add(target)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        return sorted(self._entries)

    def help(self, name: str) -> str:
        return self._help.get(name, "")

    def meta(self, name: str) -> dict[str, Any]:
        return dict(self._meta.get(name, {}))

    def is_hub_name(self, name: str) -> bool:
        """Whether ``name`` is not registered but this registry's hub rule takes it."""
        return self.hub is not None and name not in self._entries and looks_like_hub_id(name)

    def get(self, name: str) -> Any:
        if self.is_hub_name(name):
            return self.hub(name)
        if name not in self._entries:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            hub = " (or a hub id, org/name, or a saved folder written as a path, ./name)" if self.hub else ""
            raise SteervisError(f"Unknown {self.kind} {name!r}.{hint} Known: {', '.join(self.names())}{hub}")
        entry = self._entries[name]
        if isinstance(entry, str):
            entry = load_target(entry)
            if self.check is not None:
                self.check(name, entry)
            self._entries[name] = entry
        return entry

    def identity(self, name: str) -> str | None:
        """What a registered entry trained here is now (its ``identity()``, e.g. a hash of its weights), so a
        retrained model is a new cache key; None for entries that are what their name says."""
        identity = getattr(self.get(name), "identity", None) if name in self._entries else None
        return identity() if identity else None

    def build(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.get(name)(*args, **kwargs)

    def listing(self) -> str:
        """``name  help`` lines, one per entry: what the CLI's ``--list`` options print."""
        width = max((len(n) for n in self._entries), default=0) + 2
        return "\n".join(f"{name:<{width}}{self.help(name)}" for name in self.names())
