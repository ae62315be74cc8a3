"""The VLMs trained here: where each stage is saved, a summary of each from its card, and their identity.

``steervis vlm train --stage N`` saves under ``STEERVIS_HOME/models/vlm/stageN``; :func:`trained_models` lists
what is there (``steervis models``), and :func:`vlm_identity` names a trained model by its files' hash so that
every cache keyed on it treats a retrained model as a new one. Opening one is
:func:`steervis.llava.model.open_vlm`'s job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from steervis.errors import SteervisError


def trained_dir(stage: int) -> Path:
    """Where ``steervis vlm train --stage N`` saves by default: ``STEERVIS_HOME/models/vlm/stageN``."""
    from steervis.paths import cache_dir

    return cache_dir("models", "vlm") / f"stage{stage}"


def trained_models() -> list[dict[str, Any]]:
    """The VLMs trained here (``stage1``, ``stage2``), each summarised from its card; unreadable cards say
    so."""
    from steervis.lm.adapters import read_card

    rows = []
    for stage in (1, 2):
        folder = trained_dir(stage)
        if not (folder / "card.json").exists():
            continue
        try:
            card = read_card(folder, required=("vlm",))
        except SteervisError as err:
            rows.append({"name": f"stage{stage}", "path": str(folder), "error": str(err)})
            continue
        try:
            rows.append(_trained_row(card, stage, folder))
        except (AttributeError, TypeError):  # JSON of another shape: listed as damaged, the other stage shown
            error = f"{folder / 'card.json'} is not a VLM card (unexpected fields): retrain it."
            rows.append({"name": f"stage{stage}", "path": str(folder), "error": error})
    return rows


def _trained_row(card: dict[str, Any], stage: int, folder: Path) -> dict[str, Any]:
    runs = card.get("stages", {})
    last = runs.get(str(stage), {})
    return {"name": f"stage{stage}", "path": str(folder), "lm": card.get("lm", ""),
            "vision_tower": card.get("vision_tower", ""), "projector": card["vlm"].get("projector", ""),
            "stages": sorted(map(str, runs)), "conversations": last.get("data", {}).get("conversations"),
            "steps": last.get("training", {}).get("steps"),
            "loss_last": last.get("training", {}).get("loss_last")}


def vlm_identity(name: str) -> str:
    """``name``, plus the hash of the model's files when it is one trained here (``stage1``, ``stage2``, a
    saved folder): every cache keyed on it treats a retrained model as a new model. Other names come back
    unchanged."""
    from steervis.data.hashes import file_identity

    folder = trained_dir(int(name[-1])) if name in ("stage1", "stage2") else Path(name).expanduser()
    if not (folder / "card.json").is_file():
        return name
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "checkpoint" not in p.as_posix())
    return f"{name}@{file_identity(*files)}"
