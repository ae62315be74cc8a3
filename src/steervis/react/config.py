"""Typed configs of REACT's verbs; the recipes behind reported numbers are presets (``react-pool``,
``react-task`` in ``steervis/presets``), read by the one :func:`~steervis.config.load_config`.

>>> task_settings().hidden, task_settings().epochs
(1024, 5)
>>> from steervis.config import load_config
>>> load_config(ReactPoolConfig, preset="react-pool").grid["hidden"]
[256, 1024]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from steervis.config import from_dict, load_config
from steervis.device import check_placement


@dataclass
class ReactSettings:
    """The customization run (model selection on a held-out pool split chose the defaults; see RESULTS.md)."""

    hidden: int = 512
    epochs: int = 10
    batch_size: int = 256  # contrastive batches: more negatives per step, still ~0.1 s a step on two cores
    lr: float = 1e-3
    weight_decay: float = 0.01
    temperature: float = 0.05  # fixed, not learnt: the locked text space's cosines span a narrow range
    seed: int = 0
    device: str = "auto"  # where the base matcher and the gated model run: auto, cpu, cuda, cuda:N
    dtype: str = "auto"  # their precision: auto, float32, bfloat16, float16

    def __post_init__(self) -> None:
        check_placement(self)


@dataclass
class ReactPoolConfig:
    """``steervis react build``: react-pool, the embedded ConSE customized on the whole knowledge pool.

    Attributes:
        pool: the knowledge pool folder (default: the built one in the cache).
        settings: the head's training settings; model selection starts from them.
        select: choose settings on a held-out split of the pool's concepts first (the grid below).
        grid: the values model selection tries, per settings field.
        held_out: share of the pool's concepts kept out of training for model selection.
        force: retrain even if react-pool matches the pool.
    """

    pool: str | None = None
    settings: ReactSettings = field(default_factory=ReactSettings)
    select: bool = True
    grid: dict[str, list[Any]] = field(default_factory=dict)  # empty: the settings as given, no trials
    held_out: float = 0.1  # concepts kept out of training for model selection
    force: bool = False

    def __post_init__(self) -> None:
        from_dict(ReactSettings, {k: v[0] for k, v in self.grid.items() if v}, "grid.")  # did-you-mean


@dataclass
class ReactTaskConfig:
    """``steervis react customize``: REACT for a task's class names (retrieve pairs, customize on them).

    Attributes:
        classes: the task's class names (comma-separated on the command line).
        k: pairs retrieved per class.
        mode: t2t (text-to-text: pool texts) or t2i (text-to-image: pool images).
        base: conse, conse-lite2, tiny-clip or a CLIP hub id.
        pool: the knowledge pool folder (default: the built one in the cache).
        settings: the customization's training settings (preset react-task: what react-pool's model
            selection chose on the pool's held-out concepts, so no task image ever chooses them).
    """

    classes: list[str] = field(default_factory=list)
    k: int = 50
    mode: str = "t2t"
    base: str = "conse"
    pool: str | None = None
    settings: ReactSettings = field(default_factory=ReactSettings)

    def __post_init__(self) -> None:
        check_mode(self.mode)


@dataclass
class RetrieveConfig:
    """``steervis retrieve``: the pool pairs REACT retrieves for a task's class names.

    Attributes:
        classes: the task's class names (comma-separated on the command line).
        k: pairs retrieved per class.
        mode: t2t (text-to-text: pool texts) or t2i (text-to-image: pool images).
        out: also write the pairs here: FILE.parquet, FILE.csv or FILE.json (records); the suffix picks.
    """

    classes: list[str] = field(default_factory=list)
    k: int = 50
    mode: str = "t2t"
    out: str | None = None

    def __post_init__(self) -> None:
        check_mode(self.mode)


def check_mode(mode: str) -> None:
    if mode not in ("t2t", "t2i"):
        from steervis.errors import SteervisError

        raise SteervisError(f"mode must be t2t (text-to-text) or t2i (text-to-image), not {mode!r}.")


@dataclass
class ModelsConfig:
    """``steervis models``: the listing, or one customized matcher's card.

    Attributes:
        card: print the model card of a customized matcher (react-pool, or the id listed under customized
            matchers).
    """

    card: str | None = None


def task_settings() -> ReactSettings:
    """The per-task REACT settings: preset ``react-task`` (a rebuilt react-pool never changes them)."""
    return load_config(ReactTaskConfig, preset="react-task").settings
