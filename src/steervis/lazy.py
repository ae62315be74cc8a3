"""Lazy package exports: ``import steervis.data`` stays instant; pandas, PIL and torch load on first use.

>>> getattr_, names = lazy_exports("pkg", {"dumps": "json"})
>>> names, getattr_("dumps").__module__
(['dumps'], 'json')
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], list[str]]:
    """A module ``__getattr__`` that imports ``exports[name]`` on first access, and the sorted ``__all__``."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name]), name)

    return __getattr__, sorted(exports)
