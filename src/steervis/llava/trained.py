"""The VLMs trained here: where each stage is saved, a summary of each from its card, and their identity.

``steervis vlm train --stage N`` saves under ``STEERVIS_HOME/models/vlm/stageN``; :func:`trained_models` lists
what is there (``steervis models``), and :func:`vlm_identity` names a trained model by its files' hash so that
every cache keyed on it treats a retrained model as a new one. Opening one is
:func:`steervis.llava.vlms.open_vlm`'s job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from steervis.card import ModelCard, card_path, has_card, read_card
from steervis.errors import SteervisError


def trained_dir(stage: int) -> Path:
    """Where ``steervis vlm train --stage N`` saves by default: ``STEERVIS_HOME/models/vlm/stageN``."""
    from steervis.paths import cache_dir

    return cache_dir("models", "vlm") / f"stage{stage}"


def trained_models() -> list[dict[str, Any]]:
    """The VLMs trained here (``stage1``, ``stage2``), each summarised from its card; unreadable cards say
    so."""
    rows = []
    for stage in (1, 2):
        folder = trained_dir(stage)
        if not has_card(folder):
            continue
        try:
            rows.append(_trained_row(read_card(folder, kind="vlm"), stage, folder))
        except SteervisError as err:  # listed as damaged, the other stage shown
            rows.append({"name": f"stage{stage}", "path": str(folder), "error": str(err)})
        except (AttributeError, TypeError):  # a training run of another shape
            error = f"{card_path(folder)} is not a VLM card (unexpected fields): retrain it."
            rows.append({"name": f"stage{stage}", "path": str(folder), "error": error})
    return rows


def _trained_row(card: ModelCard, stage: int, folder: Path) -> dict[str, Any]:
    runs = card.vlm.stages
    last = runs.get(str(stage), {})
    return {"name": f"stage{stage}", "path": str(folder), "lm": card.base,
            "vision_tower": card.vlm.vision_tower, "projector": card.config.get("projector", ""),
            "stages": sorted(runs), "conversations": last.get("data", {}).get("conversations"),
            "steps": last.get("training", {}).get("steps"),
            "loss_last": last.get("training", {}).get("loss_last")}


def vlm_identity(name: str) -> str:
    """``name``, plus the hash of the model's files when it is one trained here (``stage1``, ``stage2``, a
    saved folder): every cache keyed on it treats a retrained model as a new model. Other names come back
    unchanged."""
    from steervis.identity import folder_identity

    folder = trained_dir(int(name[-1])) if name in ("stage1", "stage2") else Path(name).expanduser()
    return folder_identity(name, folder) if has_card(folder) else name
