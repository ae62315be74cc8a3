"""The frozen text encoder's token states of a training step's prompts, kept on disk by what was encoded
(float32 safetensors under ``STEERVIS_HOME/ground-text/<encoder>-v<TEXT_VERSION>``, one file per step).

A step draws its prompts from (seed, step): each image's names and 8 negatives of thousands, shuffled, so
within one run no prompt recurs and a cache per prompt string (or an in-process memo) would never hit. Across
runs with the same seed, images, batch size and negatives (a study's fusion arms, a sweep over the head's
settings, a run started again) every step's batch of prompts recurs whole. So a file holds a step's batch of
states exactly as the encoder returned them, padding included, keyed by the batch's prompt texts and the
encoder's identity: a run reading the cache trains the weights a run computing the states trains.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

# Bump when what an encoder returns changes (its weights, its layer): a new folder, never a stale state.
TEXT_VERSION = 1


class TextStateCache:
    """``[prompts, tokens, dim]`` float32 states per batch of prompt texts; missing ones encoded and kept."""

    def __init__(self, name: str, directory: str | Path | None = None):
        from steervis.atomic import write_text
        from steervis.paths import cache_dir

        self.name = name
        self.dir = Path(directory or cache_dir("ground-text") / f"{name}-v{TEXT_VERSION}").expanduser()
        self.dir.mkdir(parents=True, exist_ok=True)
        if not (self.dir / "identity.json").exists():
            record = {"features": "prompt token states", "text": name, "version": TEXT_VERSION}
            write_text(self.dir / "identity.json", json.dumps(record, indent=2, sort_keys=True))
        self.hits = self.misses = 0

    def key(self, text: Any, texts: Sequence[str], max_length: int) -> str:
        """Names a batch by the encoder (name, version, where and in what precision it runs) and its input."""
        param = next(text.model.parameters())
        blob = {"text": self.name, "version": TEXT_VERSION, "device": param.device.type,
                "dtype": str(param.dtype), "max_length": max_length, "texts": list(texts)}
        return hashlib.sha256(json.dumps(blob).encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.safetensors"  # 256 sub-folders: a run writes thousands of files

    def states(self, text: Any, texts: Sequence[str], input_ids: torch.Tensor,
               attention_mask: torch.Tensor, max_length: int = 128) -> torch.Tensor:
        """The states ``text.states(input_ids, attention_mask)`` returns for the tokenised ``texts``: read
        from disk when this batch was encoded before, else computed and written (atomically)."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file, save_file

        from steervis.atomic import DAMAGED, atomic_path, set_aside

        path = self.path(self.key(text, texts, max_length))
        if path.exists():
            try:
                states = load_file(str(path))["states"]
                if tuple(states.shape[:2]) == tuple(input_ids.shape):
                    self.hits += 1
                    return states
                set_aside(path, "a shape other than its prompts'", "text state file")
            except (*DAMAGED, RuntimeError, SafetensorError) as err:  # truncated or overwritten: encode again
                set_aside(path, err, "text state file")
        states = text.states(input_ids, attention_mask)
        with atomic_path(path) as tmp:
            save_file({"states": states.contiguous()}, str(tmp))
        self.misses += 1
        return states
