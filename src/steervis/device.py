"""Where a model runs and in what precision: the ``device`` and ``dtype`` of every config that loads one.

Spellings: ``device: auto | cpu | cuda | cuda:N`` and ``dtype: auto | float32 | bfloat16 | float16``.
``auto`` picks the machine's best: a CUDA card when there is one (in bfloat16 where the card supports it),
else the CPU in float32. torch is imported inside the functions, so importing this module stays instant.

>>> check_device("cuda:1"), check_dtype("auto")
('cuda:1', 'auto')
>>> resolve_device("cpu"), resolve_dtype("auto", resolve_device("cpu"))
(device(type='cpu'), torch.float32)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from steervis.errors import SteervisError

DEVICES = ("auto", "cpu", "cuda", "cuda:N")
DTYPES = ("auto", "float32", "bfloat16", "float16")
DEVICE_SPELLING = re.compile(r"^(auto|cpu|cuda|cuda:\d+)$")
F = TypeVar("F", bound=Callable[..., Any])


def check_device(name: str) -> str:
    """``name`` if it is an accepted device spelling (``mps``, ``gpu`` are not), else one sentence."""
    if isinstance(name, str) and name.startswith("mps"):
        raise SteervisError(f"device={name!r} is not one of: {', '.join(DEVICES)} (Apple GPUs are untested "
                            "here, so refused).")
    if not isinstance(name, str) or not DEVICE_SPELLING.match(name):
        raise SteervisError(f"device={name!r} is not one of: {', '.join(DEVICES)}.")
    return name


def check_dtype(name: str) -> str:
    """``name`` if it is an accepted precision spelling (``fp32``, ``half`` are not), else one sentence."""
    if name not in DTYPES:
        raise SteervisError(f"dtype={name!r} is not one of: {', '.join(DTYPES)}.")
    return name


def check_placement(config: Any) -> None:
    """Validate a config's ``device`` and ``dtype`` fields (call from its ``__post_init__``)."""
    check_device(config.device)
    check_dtype(config.dtype)


def resolve_device(name: str = "auto") -> Any:
    """The ``torch.device`` of a spelling: ``auto`` is CUDA when a card is visible, else the CPU."""
    import torch

    check_device(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SteervisError(f"device={name!r} asks for a CUDA card, but torch sees none here: use cpu or "
                            "auto.")
    return torch.device(name)


def resolve_dtype(name: str = "auto", device: Any = "cpu") -> Any:
    """The ``torch.dtype`` of a spelling on ``device``: ``auto`` is bfloat16 on a CUDA card that supports it,
    float32 elsewhere (CPU matmuls in half precision are slow and lossy)."""
    import torch

    check_dtype(name)
    if name != "auto":
        return getattr(torch, name)
    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def resolve(device: str = "auto", dtype: str = "auto") -> tuple[Any, Any]:
    """``(torch.device, torch.dtype)`` of a config's two spellings."""
    placed = resolve_device(device)
    return placed, resolve_dtype(dtype, placed)


def place(module: Any, device: str = "auto", dtype: str = "auto") -> Any:
    """Move a module's weights to the resolved device and precision (in place; returns it).

    Only floating-point weights change precision; integer buffers (position ids) keep theirs.
    """
    import torch

    if not isinstance(module, torch.nn.Module):
        return module
    placed, precision = resolve(device, dtype)
    return module.to(device=placed, dtype=precision)


def in_precision_named(name: str, precision: str) -> str:
    """A cached artifact's name for the precision it was computed in: float32 keeps the bare name (caches
    written before precisions existed stay valid), any other precision is appended, so a bfloat16 run never
    reads float32 results, nor the reverse.

    >>> in_precision_named("pooled-x", "float32"), in_precision_named("pooled-x", "bfloat16")
    ('pooled-x', 'pooled-x-bfloat16')
    """
    return name if precision == "float32" else f"{name}-{precision}"


def precision_identity(device: str = "auto", dtype: str = "auto") -> str:
    """The precision a config computes in, as cache keys hold it: ``auto`` is resolved first, so a CPU run
    (float32) and a bfloat16 GPU run never share a key, while a GPU and a CPU in float32 do."""
    if dtype != "auto":
        return dtype
    return "float32" if device == "cpu" else str(resolve(device, dtype)[1]).removeprefix("torch.")


@contextmanager
def out_of_memory_names(setting: str) -> Iterator[None]:
    """A CUDA out-of-memory error inside becomes one sentence naming the batch-size ``setting`` to lower."""
    import torch

    try:
        yield
    except torch.cuda.OutOfMemoryError:
        raise SteervisError(f"The GPU ran out of memory: lower {setting} (halve it until it fits), or choose "
                            "a smaller model or dtype: bfloat16.") from None


def names_batch_size(setting: str) -> Callable[[F], F]:
    """Decorator form of :func:`out_of_memory_names` for a command's library function."""

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with out_of_memory_names(setting):
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]

    return wrap


def beside(tensor: Any, module: Any) -> Any:
    """``tensor`` moved to where ``module``'s weights are: their device and, for a floating-point tensor,
    their precision (an input meets its weights; on the CPU in float32 nothing moves)."""
    weight = next(module.parameters())
    if tensor.is_floating_point():
        return tensor.to(device=weight.device, dtype=weight.dtype)
    return tensor.to(device=weight.device)
