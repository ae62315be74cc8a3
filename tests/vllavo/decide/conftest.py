"""What the decide tests share: one way to damage a saved adapter folder, as a user's disk might."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from steervis.card import card_path


def damage_folder(folder: Path, damage: str) -> None:
    if damage == "bad-json":
        card_path(folder).write_text("{not json")
    elif damage == "empty-card":
        card_path(folder).write_text("{}")
    elif damage == "no-adapter":
        shutil.rmtree(folder / "adapter")
    else:
        weights = next((folder / "adapter").glob("*.safetensors"))
        weights.write_bytes(weights.read_bytes()[:100])


@pytest.fixture
def damage_adapter():
    """``damage_adapter(folder, kind)``: kind is bad-json, empty-card, no-adapter or truncated-weights."""
    return damage_folder
