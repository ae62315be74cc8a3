"""LoRA adapters and their model cards: create, save atomically, load, and refuse a broken folder clearly.

A saved model is a folder: ``adapter/`` (peft's ``save_pretrained``; empty for a zero-shot model), its model
card (:class:`steervis.card.ModelCard`: what it is, what it was trained on, how well), and any extra
safetensors files a caller adds (llava stores its projector there).

>>> from steervis import zoo
>>> from steervis.lm.adapters import add_lora
>>> from steervis.lm.config import LoraSettings
>>> model = add_lora(zoo.load("tiny-llama", kind="causal-lm").model, LoraSettings(), seed=0)
>>> sum(p.numel() for p in model.parameters() if p.requires_grad) > 0
True
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Any

import torch

from steervis.atomic import atomic_dir
from steervis.card import ModelCard, write_card
from steervis.errors import SteervisError
from steervis.lm.config import LoraSettings

ADAPTER_DIR = "adapter"


@contextlib.contextmanager
def quiet_peft():
    """peft reads a transformers property deprecated in v5; the warning is nothing a user can act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


def add_lora(model: Any, settings: LoraSettings, seed: int = 0) -> Any:
    """Wrap ``model`` with a fresh, seeded LoRA adapter (peft); only the adapter is trainable."""
    from peft import LoraConfig, get_peft_model

    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    missing = [m for m in settings.target_modules if m not in names]
    if missing:
        raise SteervisError(f"LoRA target modules {missing} are not in this model; it has e.g. "
                            f"{sorted(n for n in names if n.endswith('proj'))[:8]}. Set lora.target_modules.")
    torch.manual_seed(seed)  # LoRA's A matrices are random: the same seed gives the same adapter
    config = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=list(settings.target_modules), task_type="CAUSAL_LM")
    with quiet_peft():
        # eval mode: new LoRA dropout layers start in training mode, and would make inference random
        return get_peft_model(model, config).eval()


def continue_lora(model: Any) -> None:
    """Make a loaded (inference-mode) LoRA adapter trainable again: training goes on from its weights."""
    for name, param in model.named_parameters():
        if "lora_" in name:
            param.requires_grad_(True)


def write_adapter(directory: str | Path, model: Any, card: ModelCard,
                  tensors: dict[str, dict[str, torch.Tensor]] | None = None,
                  texts: dict[str, str] | None = None, kind: str = "model") -> Path:
    """Save the LoRA adapter (``model=None``: none), the card and extra files, all or nothing.

    Args:
        directory: Target folder; replaced as a whole if it exists (only when steervis wrote it).
        model: A peft model, or ``None`` for a model without an adapter (zero-shot).
        card: The model card.
        tensors: ``file stem -> state dict`` written as ``<stem>.safetensors`` (e.g. a projector).
        texts: ``file name -> text`` written beside the card (e.g. the resolved config), in the same swap.
        kind: What the folder is, for its completion stamp and for messages (``adapter``, ``vlm``).
    """
    from safetensors.torch import save_file

    with atomic_dir(directory, kind=kind) as tmp:
        for name, text in (texts or {}).items():
            (tmp / name).write_text(text)
        (tmp / ADAPTER_DIR).mkdir()
        if model is not None:
            model.save_pretrained(tmp / ADAPTER_DIR)
        for stem, state in (tensors or {}).items():
            save_file({k: v.detach().contiguous().cpu() for k, v in state.items()},
                      str(tmp / f"{stem}.safetensors"))
        write_card(tmp, card)
    return Path(directory)


def load_lora(model: Any, directory: str | Path) -> Any:
    """Attach the saved adapter in ``directory`` to a freshly loaded base ``model`` (inference mode)."""
    from peft import PeftModel

    adapter = Path(directory) / ADAPTER_DIR
    if not (adapter / "adapter_config.json").exists():
        raise SteervisError(f"{directory} has no LoRA adapter ({ADAPTER_DIR}/adapter_config.json is "
                            "missing): refit it with `steervis fit`.")
    try:
        with quiet_peft():
            return PeftModel.from_pretrained(model, str(adapter), is_trainable=False).eval()
    except Exception as err:  # safetensors and peft raise many types for a truncated or foreign file
        raise SteervisError(f"The adapter in {adapter} cannot be loaded ({type(err).__name__}: "
                            f"{str(err)[:120]}): refit it with `steervis fit`.") from None


def read_tensors(directory: str | Path, stem: str) -> dict[str, torch.Tensor]:
    """An extra safetensors file written by :func:`write_adapter`."""
    from safetensors.torch import load_file

    path = Path(directory) / f"{stem}.safetensors"
    if not path.exists():
        raise SteervisError(f"{directory} has no {path.name}: it was saved by another kind of model.")
    try:
        return load_file(str(path))
    except Exception as err:  # a truncated file raises SafetensorError
        raise SteervisError(f"{path} is damaged ({err}): retrain the model.") from None
