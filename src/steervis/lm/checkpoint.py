"""The trainer's resumable checkpoint: tensors in safetensors, everything else in JSON, nothing ever
unpickled.

:func:`save_checkpoint` writes the trainable weights, the optimiser's tensors and the torch/CUDA RNG states to
a new ``trainer-state-<step>.safetensors``, then the JSON that names it (counters, schedule, losses, the numpy
and python RNG states), so a kill between the two leaves the previous pair whole. :func:`read_checkpoint`
checks the JSON's run fingerprint before it opens any tensor: another run's checkpoint is set aside as
``.stale``, a damaged one as ``.corrupt``, and a pickle planted under any of these names is only ever parsed
as JSON or safetensors.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)
# The commit point of a checkpoint: counters, schedule, RNG states and the name of the tensors file it goes
# with.
CHECKPOINT_FILE = "trainer-state.json"
TENSORS_GLOB = "trainer-state-*.safetensors"  # one per saved step; only the one the JSON names is current
TENSORS_NAME = re.compile(r"trainer-state-\d{7,}\.safetensors")
# all a file may hold
TENSOR_KEY = re.compile(r"trainable\..+|optim\.state\.\d+\..+|rng\.torch|rng\.cuda\.\d+")
LEGACY_CHECKPOINT = "trainer-state.pt"  # a pickle written by older versions: never read


def trainable_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in module.named_parameters() if p.requires_grad}


def _optim_tensors(optim_state: dict[int, dict[str, Any]]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The optimiser's per-parameter state split into tensors (``optim.state.<idx>.<name>``) and the rest
    (JSON)."""
    tensors: dict[str, torch.Tensor] = {}
    rest: dict[str, dict[str, Any]] = {}
    for idx, entries in optim_state.items():
        for name, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"optim.state.{idx}.{name}"] = value
            else:
                rest.setdefault(str(idx), {})[name] = value
    return tensors, rest


def _rng_tensors() -> dict[str, torch.Tensor]:
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return {"rng.torch": torch.get_rng_state()} | {f"rng.cuda.{i}": s for i, s in enumerate(cuda)}


def save_checkpoint(path: Path, module: torch.nn.Module, optim: Any, sched: Any, result: Any,
                     epoch_rng: dict[str, Any], epoch: int, fingerprint: str | None) -> None:
    """Write the tensors (a new file per step), then the JSON naming them, then drop older tensors files.

    The JSON is written last: a kill between the two writes leaves the previous JSON and its tensors whole.
    """
    from safetensors.torch import save_file

    from steervis.atomic import atomic_path, write_text

    optim_state = optim.state_dict()
    optim_tensors, optim_rest = _optim_tensors(optim_state["state"])
    trainable = {f"trainable.{n}": v for n, v in trainable_state(module).items()}
    tensors = {k: v.detach().cpu().contiguous()
               for k, v in (trainable | optim_tensors | _rng_tensors()).items()}
    name = f"trainer-state-{result.steps:07d}.safetensors"
    with atomic_path(path.with_name(name)) as tmp:
        save_file(tensors, str(tmp), metadata={"fingerprint": fingerprint or "", "step": str(result.steps)})
    state = {"fingerprint": fingerprint, "step": result.steps, "epoch": epoch, "tensors": name,
             "optim": {"param_groups": optim_state["param_groups"], "state": optim_rest},
             "sched": sched.state_dict(), "losses": result.losses, "examples_seen": result.examples_seen,
             "tokens": result.tokens, "shard": result.shard, "np_rng": epoch_rng, "py_rng": random.getstate(),
             "metrics": getattr(result, "metrics", {})}  # a caller's own record may keep none
    write_text(path, json.dumps(state))
    for old in path.parent.glob(TENSORS_GLOB):
        if old.name != name:
            old.unlink(missing_ok=True)


def remove_checkpoint(path: Path) -> None:
    """Finished: the JSON first, so a kill midway never leaves it naming a removed tensors file."""
    path.unlink(missing_ok=True)
    for tensors in path.parent.glob(TENSORS_GLOB):
        tensors.unlink(missing_ok=True)


# The fields of the JSON file and their types; anything else is a damaged checkpoint.
_FIELDS = {"step": int, "epoch": int, "tensors": str, "optim": dict, "sched": dict, "losses": list,
           "examples_seen": int, "tokens": int, "shard": list, "np_rng": dict, "py_rng": list}


def _check_rng_json(state: dict[str, Any]) -> None:
    """Set the saved numpy and python RNG states on throwaway generators: a bad one fails here, not
    mid-resume."""
    np.random.default_rng().bit_generator.state = state["np_rng"]
    version, internal, gauss = state["py_rng"]
    random.Random().setstate((version, tuple(internal), gauss))


def _read_json(path: Path) -> dict[str, Any]:
    state = json.loads(path.read_text())
    if not isinstance(state, dict) or "fingerprint" not in state:
        raise ValueError("not a trainer state")
    for key, kind in _FIELDS.items():
        if not isinstance(state[key], kind):
            raise ValueError(f"{key} is not a {kind.__name__}")
    metrics = state.setdefault("metrics", {})  # absent in checkpoints of older versions
    numbers = lambda v: isinstance(v, list) and all(isinstance(x, int | float) for x in v)  # noqa: E731
    if not isinstance(metrics, dict) or not all(numbers(v) for v in metrics.values()):
        raise ValueError("metrics are not lists of numbers")
    if not TENSORS_NAME.fullmatch(state["tensors"]):  # a bare name in this folder, never a path elsewhere
        raise ValueError(f"bad tensors file name {state['tensors']!r}")
    _check_rng_json(state)
    return state


def _read_tensors(path: Path, state: dict[str, Any],
                  shapes: dict[str, torch.Size]) -> dict[str, torch.Tensor]:
    """The tensors file the JSON names, checked against it and against this run's trainable parameters."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata() or {}
        if meta.get("fingerprint") != state["fingerprint"] or meta.get("step") != str(state["step"]):
            raise ValueError("tensors of another step or run")
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 (not iterable)
    if not all(TENSOR_KEY.fullmatch(key) for key in tensors):
        raise ValueError("unknown tensors")
    trainable = {k.removeprefix("trainable."): v.shape for k, v in tensors.items()
                 if k.startswith("trainable.")}
    if trainable != shapes:
        raise ValueError("trainable tensors differ from this run's parameters")
    rng = tensors.get("rng.torch")
    if rng is None or rng.dtype != torch.uint8 or rng.shape != torch.get_rng_state().shape:
        raise ValueError("no valid torch RNG state")
    return tensors


def _set_aside_damaged(damaged: Path, partner: Path | None, err: BaseException | str) -> None:
    """Set the damaged file aside (one warning) and its partner with it, so neither is tried again."""
    from steervis.atomic import set_aside

    set_aside(damaged, err, "trainer checkpoint")
    if partner is not None and partner != damaged:
        with contextlib.suppress(FileNotFoundError):
            os.replace(partner, partner.with_name(partner.name + ".corrupt"))


def _set_aside_stale(path: Path, tensors: Path | None) -> None:
    stale = path.with_name(path.name + ".stale")
    with contextlib.suppress(FileNotFoundError):  # another process set it aside first
        os.replace(path, stale)  # kept, not deleted: the other run may still want it
        if tensors is not None:
            os.replace(tensors, tensors.with_name(tensors.name + ".stale"))
    log.warning("%s belongs to another run (other settings or data): set aside as %s; training "
                "starts from step 0.", path, stale.name)


def read_checkpoint(path: Path, fingerprint: str, shapes: dict[str, torch.Size]) -> dict[str, Any] | None:
    """This run's checkpoint at ``path`` (the JSON, its tensors under ``"arrays"``), else ``None``.

    The fingerprint in the JSON is checked before any tensor is read; a checkpoint of another run is set aside
    as ``.stale``, a damaged one (bad JSON, a truncated or mismatched tensors file) as ``.corrupt``.
    """
    from safetensors import SafetensorError

    from steervis.atomic import DAMAGED

    if not path.exists():
        return None
    try:
        state = _read_json(path)
    except (*DAMAGED, TypeError, OverflowError) as err:
        _set_aside_damaged(path, None, err)
        return None
    tensors_path = path.with_name(state["tensors"])
    if state["fingerprint"] != fingerprint:
        _set_aside_stale(path, tensors_path if tensors_path.exists() else None)
        return None
    try:
        state["arrays"] = _read_tensors(tensors_path, state, shapes)
    except (*DAMAGED, TypeError, RuntimeError, SafetensorError) as err:
        damaged = tensors_path if tensors_path.exists() else path
        _set_aside_damaged(damaged, path if damaged == tensors_path else None, err)
        return None
    return state


def _optim_state_dict(state: dict[str, Any]) -> dict[str, Any]:
    """The optimiser's ``state_dict`` rebuilt from the JSON part and the ``optim.state.*`` tensors."""
    per_param: dict[int, dict[str, Any]] = {int(i): dict(rest) for i, rest in state["optim"]["state"].items()}
    for key, value in state["arrays"].items():
        if key.startswith("optim.state."):
            idx, name = key.removeprefix("optim.state.").split(".", 1)
            per_param.setdefault(int(idx), {})[name] = value
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g
              for g in state["optim"]["param_groups"]]
    return {"state": per_param, "param_groups": groups}  # JSON made the betas tuple a list


def resume(state: dict[str, Any], module: torch.nn.Module, optim: Any, sched: Any, rng: np.random.Generator,
            result: Any) -> int:
    """Load a checkpoint read by :func:`read_checkpoint` into the run; returns the epoch to go on with."""
    with torch.no_grad():
        named = dict(module.named_parameters())
        for name, value in state["arrays"].items():
            if name.startswith("trainable."):
                named[name.removeprefix("trainable.")].copy_(value)
    optim.load_state_dict(_optim_state_dict(state))
    sched.load_state_dict(state["sched"])
    _restore_rng(state, rng)
    result.losses, result.steps, result.resumed_from = list(state["losses"]), state["step"], state["step"]
    result.examples_seen, result.tokens, result.shard = (state["examples_seen"], state["tokens"],
                                                         state["shard"])
    result.metrics = {name: list(values) for name, values in state["metrics"].items()}
    return state["epoch"]


def _restore_rng(state: dict[str, Any], rng: np.random.Generator) -> None:
    arrays = state["arrays"]
    torch.set_rng_state(arrays["rng.torch"])
    cuda = [arrays[f"rng.cuda.{i}"] for i in range(sum(k.startswith("rng.cuda.") for k in arrays))]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    rng.bit_generator.state = state["np_rng"]
    version, internal, gauss = state["py_rng"]
    random.setstate((version, tuple(internal), gauss))


def warn_legacy(path: Path, resuming: bool) -> None:
    """One line about a pickled checkpoint of an older version: it is left where it is and never loaded."""
    if path.exists():
        then = "resuming from the current checkpoint instead" if resuming else "training starts from step 0"
        log.warning("%s was left by an older steervis and is not read (a pickle can run code); %s.", path,
                    then)
