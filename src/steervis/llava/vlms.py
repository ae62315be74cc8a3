"""steervis' LLaVA models by name: ``stage1`` / ``stage2`` trained here, ``tiny-vlm``, ``tiny-llava``, a saved
folder or a hub Llava id (:data:`VLMS`, :func:`open_vlm`).

>>> from steervis.llava.vlms import open_vlm
>>> open_vlm("tiny-llava").config.hub  # doctest: +SKIP
'tiny-llava'
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from steervis.card import CARD_NAME, has_card
from steervis.errors import SteervisError
from steervis.llava.config import VLMConfig
from steervis.llava.model import VLM
from steervis.llava.trained import trained_dir
from steervis.registry import Registry, is_hub_id

TINY = "tiny-vlm"  # steervis' own LLaVA on tiny-llama with a fresh, seeded projector: for tests


def _trained_stage(stage: int, device: str = "auto", dtype: str = "auto") -> VLM:
    if not has_card(trained_dir(stage)):
        raise SteervisError(f"No stage{stage} model is trained here: run `steervis vlm train --stage "
                            f"{stage}`, or pass a saved folder, tiny-llava or a hub Llava id.")
    return VLM.load(trained_dir(stage), device=device, dtype=dtype)


def _saved_or_hub(name: str) -> Any:
    """An unregistered name: a folder written by `steervis vlm train` (its card marks it, wherever it lives),
    else a hub Llava id (org/name, dots and all)."""
    folder = Path(name).expanduser()
    if has_card(folder):
        return functools.partial(VLM.load, folder)
    if not is_hub_id(name):
        raise SteervisError(f"{name} {_not_a_vlm(folder)}: give a folder written by `steervis vlm train`, "
                            "stage1, stage2, tiny-llava or a hub Llava id (org/name).")
    return functools.partial(VLM.from_llava, name)


VLMS = Registry("VLM", hub=_saved_or_hub)
VLMS.register("stage1", functools.partial(_trained_stage, 1),
              help="stage 1 trained here (`vlm train --stage 1`)")
VLMS.register("stage2", functools.partial(_trained_stage, 2),
              help="stage 2 trained here (`vlm train --stage 2`)")
VLMS.register(TINY, lambda **placement: VLM.create(VLMConfig(lm="tiny-llama"), **placement),
              help="steervis' LLaVA on tiny-llama with a fresh projector, untrained (tests)")
VLMS.register("tiny-llava", functools.partial(VLM.from_llava, "tiny-llava"),
              help="a random tiny transformers Llava (tests)")


def open_vlm(name: str | Path | None = None, device: str = "auto", dtype: str = "auto") -> VLM:
    """A VLM by name (:data:`VLMS`: ``stage1`` / ``stage2`` trained here, ``tiny-vlm``, ``tiny-llava``), a
    saved folder or a hub Llava id; ``None``: the latest stage trained here. Its weights go on ``device`` in
    ``dtype`` (:mod:`steervis.device` spellings)."""
    if name is None:
        for stage in (2, 1):
            if has_card(trained_dir(stage)):
                return VLM.load(trained_dir(stage), device=device, dtype=dtype)
        raise SteervisError("No LLaVA is trained here yet: run `steervis vlm train --stage 1` "
                            "(then --stage 2), or pass --model tiny-llava / a hub Llava id.")
    return VLMS.build(str(name), device=device, dtype=dtype)


def _not_a_vlm(folder: Path) -> str:
    """Why a path is no saved VLM, in a few words."""
    if not folder.exists():
        return "does not exist"
    if folder.is_dir():
        return f"holds no saved VLM (no {CARD_NAME})"
    return "is a file, not a folder holding a saved VLM"
