"""The one contract every method meets, baseline or flagship, so a protocol can run any of them.

A method sees items as a pandas DataFrame with (at least) ``path``, ``domain``, ``sha256`` and, when
labelled, ``class``. Methods register their class in ``METHODS``; the registry checks the contract
(``fit``, ``predict_proba``, ``save``, ``load``) when the class is resolved, and that the optional
capabilities it declares (``adapt``: UDA self-training; ``variants``: extra inference modes on the same fitted
model; ``diagnostics``: facts about its last predictions, kept in metrics.json) exist. Each method declares
its options as a dataclass (``Options``); each evaluate run's ``options`` is validated against it, with
did-you-mean errors, before any method runs.

>>> from steervis.methods import METHODS, method_options
>>> method_options("zeroshot", {"temperature": 0.02}).temperature
0.02
>>> method_options("zeroshot", {"temprature": 0.02})
Traceback (most recent call last):
...
steervis.errors.SteervisError: Unknown config key 'zeroshot.options.temprature'. Did you mean ...
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from steervis.classes import check_classes  # noqa: F401  (re-exported: methods validate classes here)
from steervis.config import from_dict
from steervis.errors import SteervisError
from steervis.registry import Registry

CONTRACT = ("fit", "predict_proba", "save", "load")
# optional; a method declares the ones it has in `capabilities` (diagnostics: a dict about its last
# predictions)
CAPABILITIES = ("adapt", "variants", "diagnostics")


@runtime_checkable
class Classifier(Protocol):
    """fit on labelled items, then give a probability vector over ``classes`` for each item."""

    name: str
    classes: list[str]

    def fit(self, train: pd.DataFrame, classes: list[str]) -> Classifier: ...

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray: ...

    def save(self, directory: str | Path) -> None: ...


def check_method(name: str, cls: Any) -> None:
    """The registry's contract check: the four methods, an options dataclass, declared capabilities
    present."""
    missing = [m for m in CONTRACT if not callable(getattr(cls, m, None))]
    if missing:
        raise SteervisError(f"method {name!r} ({cls.__name__}) lacks {', '.join(missing)}: every method "
                            f"implements {', '.join(CONTRACT)}.")
    if (not dataclasses.is_dataclass(getattr(cls, "Options", None))
            or not callable(getattr(cls, "create", None))):
        raise SteervisError(f"method {name!r} ({cls.__name__}) must declare an Options dataclass and "
                            "create().")
    caps = set(getattr(cls, "capabilities", ()))
    unknown = caps - set(CAPABILITIES)
    absent = [c for c in sorted(caps & set(CAPABILITIES)) if not callable(getattr(cls, c, None))]
    if unknown or absent:
        raise SteervisError(f"method {name!r} declares capabilities it lacks: "
                            f"{', '.join(sorted(unknown) + absent)}.")


METHODS = Registry("method", check=check_method)


def method_options(name: str, values: dict[str, Any] | None = None, where: str = "") -> Any:
    """``values`` checked against method ``name``'s ``Options`` dataclass (did-you-mean on a wrong key)."""
    return from_dict(METHODS.get(name).Options, values or {}, where=where or f"{name}.options.")


def build_method(name: str, context: Any, options: Any = None) -> Any:
    """A method by name; ``options`` is its ``Options`` instance or plain values (checked)."""
    cls = METHODS.get(name)
    if not isinstance(options, cls.Options):
        options = method_options(name, options)
    return cls.create(context, options)


def has_capability(method: Any, capability: str) -> bool:
    return capability in getattr(method, "capabilities", ())


@dataclasses.dataclass
class NoOptions:
    """A method without options."""


class Method:
    """Base of the simple methods: options become attributes; save/load write and read ``method.json``.

    Subclasses set ``name`` and ``Options`` and implement ``fit`` / ``predict_proba``; those with fitted state
    beyond the class list extend ``save`` and ``_load_state``.
    """

    name = "method"
    Options: type = NoOptions
    capabilities: frozenset[str] = frozenset()

    def __init__(self, context: Any = None, options: Any = None, **values: Any):
        if context is None:
            from steervis.methods.context import MethodContext

            context = MethodContext()
        self.context = context
        self.options = (options if options is not None
                        else from_dict(self.Options, values, where=f"{self.name}."))
        for f in dataclasses.fields(self.options):
            setattr(self, f.name, getattr(self.options, f.name))
        self.classes: list[str] = []

    @classmethod
    def create(cls, context: Any, options: Any) -> Method:
        return cls(context, options)

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {"method": self.name, **dataclasses.asdict(self.options), "classes": self.classes}
        (directory / "method.json").write_text(json.dumps(state, indent=2))
        return directory

    @classmethod
    def load(cls, directory: str | Path, context: Any = None) -> Method:
        """A saved method back, ready to predict (``context`` supplies features and descriptions)."""
        directory = Path(directory)
        path = directory / "method.json"
        if not path.exists():
            raise SteervisError(f"{directory} holds no saved method (no method.json).")
        state = json.loads(path.read_text())
        if state.get("method") != cls.name:
            raise SteervisError(f"{directory} holds a {state.get('method')!r} method, not {cls.name!r}.")
        names = {f.name for f in dataclasses.fields(cls.Options)}
        obj = cls(context, from_dict(cls.Options, {k: v for k, v in state.items() if k in names}))
        obj.classes = list(state["classes"])
        obj._load_state(directory)
        return obj

    def _load_state(self, directory: Path) -> None:
        """Read what :meth:`save` wrote beyond ``method.json`` (nothing, for stateless methods)."""


def check_labels(train: pd.DataFrame, classes: list[str]) -> np.ndarray:
    """Label indices of ``train``; an unknown label is an error that names it."""
    if "class" not in train:
        raise SteervisError("Training items have no 'class' column: fitting needs labels.")
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(train["class"]) - set(index))
    if unknown:
        raise SteervisError(f"Training labels not among the classes: {', '.join(map(str, unknown[:10]))}.")
    return train["class"].map(index).to_numpy()
