"""Vision-language models by name, for systems that read or train one without importing the system that
defines it.

steervis' LLaVA is a system of its own (:mod:`steervis.llava`), and systems never import each other: one that
self-trains or questions a VLM (STIC) opens it here. :data:`VLM_FAMILIES` maps a family to the function that
resolves its model names; ``llava`` is the one family, resolved by a registry string (the only coupling, on
the layering test's list). What a caller may rely on is :class:`VisionLanguageModel`.

>>> from steervis.zoo.vlms import VLM_FAMILIES
>>> "llava" in VLM_FAMILIES
True
>>> vlm = open_vlm("tiny-vlm")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from steervis.registry import Registry


class VisionLanguageModel(Protocol):
    """What a system may use of an opened VLM: its LM-core model (``lm``: tokenizer, causal LM, splicer),
    prompts with images, batched answers, and saving with a record of each training run (``stages``)."""

    lm: Any
    config: Any
    stages: dict[str, dict[str, Any]]
    lm_tuned: bool

    def visual(self, images: Sequence[Any]) -> list[Any]: ...

    def conversation(self, turns: Sequence[tuple[str, str | None]], image: Any = None,
                     tpl: str | None = None) -> Any: ...

    def ask(self, images: Sequence[Any], questions: Sequence[str], max_new_tokens: int = 32,
            batch_size: int = 8, **options: Any) -> list[str]: ...

    def save(self, directory: str | Path, method: str = "", options: dict[str, Any] | None = None,
             classes: Sequence[str] = ()) -> Path: ...


VLM_FAMILIES = Registry("VLM family")
VLM_FAMILIES.register("llava", "steervis.llava.vlms:open_vlm",
                      help="steervis' LLaVA: stage1, stage2, tiny-vlm, tiny-llava, a saved folder or a hub "
                      "Llava id")


def open_vlm(name: str | Path | None = None, device: str = "auto", dtype: str = "auto",
             family: str = "llava") -> VisionLanguageModel:
    """The VLM ``name`` of ``family`` (``None``: the family's default, for LLaVA the latest stage trained
    here), its weights on ``device`` in ``dtype`` (:mod:`steervis.device` spellings)."""
    return VLM_FAMILIES.get(family)(name, device=device, dtype=dtype)
