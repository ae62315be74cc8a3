"""The model zoo's core: one registry of named models (embedded and tiny), and hub-id loading per kind.

A name in the registry loads its packaged weights (or a tiny random-init config). ``MODELS`` declares its hub
rule: a name that looks like a hub id (``org/name``, or a local checkpoint folder) loads with the normal
``from_pretrained`` of the requested kind; any other unknown name is a did-you-mean error. Offline, a hub id
fails with one sentence naming the embedded alternative.

>>> from steervis.zoo import load
>>> lm = load("smollm2-135m-instruct", kind="causal-lm")  # doctest: +SKIP
>>> lm.model.config.model_type  # doctest: +SKIP
'llama'
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steervis.errors import SteervisError
from steervis.registry import Registry, is_explicit_path

# Kinds a model can be loaded as; what to use instead when a hub id is out of reach (a whole sentence's
# advice).
EMBEDDED_DEFAULT = {
    "image-classifier": "Use the embedded efficientnet-lite0 instead",
    "text-encoder": "Use the embedded minilm-l6 instead",
    "causal-lm": "Use the embedded smollm2-135m-instruct instead",
    "clip": "Use the embedded conse matcher (efficientnet-lite0 + minilm-l6) instead",
    "captioner": "Offline, describe without a captioner (captioner: null; descriptions then carry tags and "
                 "attributes only)",
    "vlm": "Use tiny-llava (random weights, for tests only) instead",
    "vision-tower": "Use the embedded efficientnet-lite0 tower instead",
}


@dataclass(frozen=True)
class ModelEntry:
    """A named model: what kind it is, how to load it, how to tell whether it is ready offline."""

    name: str
    kind: str
    source: str  # where the weights come from (package name, or "random init")
    load: Callable[[], Any]
    is_cached: Callable[[], bool] = lambda: True
    prepare: Callable[[], Any] | None = None  # one-time work that makes later loads fast
    installed: Callable[[], bool] = lambda: True  # whether its (optional) weights package is installed


HUB_KIND = "hub"  # the kind of a hub-id entry: it loads as whatever kind the caller asks for


def hub_entry(model_id: str) -> ModelEntry:
    """The entry of a hub id (``MODELS``' hub rule); ``load`` picks the loader of the requested kind."""
    return ModelEntry(model_id, HUB_KIND, "Hugging Face hub", load=lambda: None, is_cached=lambda: False)


MODELS = Registry("model", hub=hub_entry)
HUB_LOADERS = Registry("model kind")


def register_model(entry: ModelEntry) -> ModelEntry:
    MODELS.register(entry.name, entry, help=f"{entry.kind}: {entry.source}", kind=entry.kind)
    return entry


def entry(name: str) -> ModelEntry:
    return MODELS.get(name)


@functools.cache
def hub_reachable(host: str = "huggingface.co", timeout: float = 2.0) -> bool:
    """Whether the hub can be reached; checked once so an offline machine fails in seconds, not after
    retries."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    try:
        socket.setdefaulttimeout(timeout)
        socket.getaddrinfo(host, 443)
        return True
    except OSError:
        return False
    finally:
        socket.setdefaulttimeout(None)


def hub_kwargs() -> dict[str, Any]:
    """``from_pretrained`` kwargs: use only the local HF cache when the hub cannot be reached."""
    if hub_reachable():
        return {}
    import huggingface_hub.constants

    # Some transformers look-ups (e.g. the PEFT adapter probe) ignore local_files_only and retry for ~25 s.
    huggingface_hub.constants.HF_HUB_OFFLINE = True
    return {"local_files_only": True}


def load_from_hub(model_id: str, kind: str, loader: Callable[..., Any]) -> Any:
    """Run a hub loader, turning 'weights not available' into one clear sentence."""
    if is_explicit_path(model_id) and not Path(model_id).expanduser().is_dir():
        raise SteervisError(f"Model folder {model_id} does not exist: give a saved checkpoint's folder, a "
                            "registered model (`steervis models`) or a hub id (org/name).")
    try:
        return loader(model_id, **hub_kwargs())
    except (OSError, ValueError) as err:
        raise SteervisError(
            f"Model {model_id!r} is not available: its weights are not in the local Hugging Face cache and "
            f"the hub cannot be reached. {EMBEDDED_DEFAULT.get(kind, 'Use an embedded model instead')} "
            f"(`steervis models` lists what works offline). [{type(err).__name__}]"
        ) from None


def load(name: str, kind: str, device: str = "auto", dtype: str = "auto",
         device_map: str | None = None) -> Any:
    """Load ``name`` as a model of ``kind``: a registered name, or a hub id through that kind's loader; its
    weights on ``device`` in ``dtype`` (:mod:`steervis.device` spellings).

    ``device_map="auto"`` spreads a hub model over every visible card (accelerate); ``None`` does so only
    when its weights do not fit the card (:mod:`steervis.zoo.placement`).
    """
    from steervis.device import place, resolve
    from steervis.zoo.placement import hub_options

    placed, precision = resolve(device, dtype)  # a bad spelling or a missing card fails before any load
    found = entry(name)  # a misspelt embedded name is a did-you-mean error here
    if found.kind == HUB_KIND:
        placement = hub_options(name, placed, precision, device_map)
        bundle = load_from_hub(name, kind, functools.partial(HUB_LOADERS.get(kind), placement=placement))
        if "device_map" in placement:  # accelerate placed every weight; .to() would undo its dispatch
            return bundle
    elif found.kind != kind:
        raise SteervisError(f"{name!r} is a {found.kind} model, but a {kind} model is needed here.")
    else:
        bundle = found.load()
    place(bundle.model, device, dtype)
    return bundle


def list_models() -> list[dict[str, Any]]:
    """Every registered name with its kind, source and whether it loads offline right now."""
    return [
        {"name": e.name, "kind": e.kind, "source": e.source, "cached": bool(e.is_cached())}
        for e in (entry(n) for n in MODELS.names())
    ]
