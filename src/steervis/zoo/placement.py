"""How a hub checkpoint is put on its device: attention through PyTorch's SDPA kernels, and weights spread
over every visible card (and the host) by accelerate's ``device_map="auto"`` when asked, or when the
checkpoint is larger than the card's free memory.

>>> import torch
>>> hub_options("org/model", torch.device("cpu"), torch.float32)
{'dtype': torch.float32, 'attn_implementation': 'sdpa'}
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FREE_SHARE = 0.9  # of a card's free memory the weights may take: activations and the KV cache need the rest
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def _local_file(model_id: str, name: str) -> Path | None:
    """``name`` inside a checkpoint folder, or in the Hugging Face cache of a hub id (no download)."""
    folder = Path(model_id).expanduser()
    if folder.is_dir():
        path = folder / name
        return path if path.is_file() else None
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(model_id, name)
    return Path(found) if isinstance(found, str) else None


def checkpoint_bytes(model_id: str) -> int:
    """Bytes of a checkpoint's weights as stored, from its index or its single weights file (0: unknown,
    e.g. not downloaded yet)."""
    for name in INDEX_FILES:
        path = _local_file(model_id, name)
        if path is not None:
            return int(json.loads(path.read_text()).get("metadata", {}).get("total_size", 0))
    for name in WEIGHT_FILES:
        path = _local_file(model_id, name)
        if path is not None:
            return path.stat().st_size
    return 0


def too_large(model_id: str, device: Any) -> bool:
    """Whether the stored weights exceed the share of ``device``'s free memory weights may take."""
    import torch

    if device.type != "cuda":
        return False
    free, _ = torch.cuda.mem_get_info(device)
    return checkpoint_bytes(model_id) > FREE_SHARE * free


def hub_options(model_id: str, device: Any, precision: Any, device_map: str | None = None) -> dict[str, Any]:
    """``from_pretrained`` options of a hub model: its precision, SDPA attention, and ``device_map="auto"``
    when ``device_map`` asks for it or the weights do not fit the card (then accelerate places them)."""
    options: dict[str, Any] = {"dtype": precision, "attn_implementation": "sdpa"}
    if device_map == "auto" or (device_map is None and too_large(model_id, device)):
        log.info("%s: weights spread over the visible devices (device_map='auto')", model_id)
        options["device_map"] = "auto"
    return options


def load_model(auto_class: Any, model_id: str, placement: dict[str, Any] | None, **kwargs: Any) -> Any:
    """``auto_class.from_pretrained`` with ``placement``; a model without an SDPA kernel falls back to the
    attention transformers picks for it (the error says so, and nothing else changes). Tokenizers and
    processors get none of these options."""
    options = dict(placement or {})
    try:
        return auto_class.from_pretrained(model_id, **options, **kwargs)
    except ValueError as err:
        if options.pop("attn_implementation", None) is None or "sdpa" not in str(err).lower():
            raise
        log.info("%s has no SDPA attention: loading it with its default attention", model_id)
        return auto_class.from_pretrained(model_id, **options, **kwargs)
