"""Export a described frame as a reusable text dataset (Parquet and JSONL), like VLLaVO's released sets.

Each row: ``path``, ``domain``, ``class``, ``sha256``, ``description`` (the rendered block), and the
components as lists. Rows that failed are left out (the CLI lists them in ``failures.csv``).

>>> from steervis.vllavo.describe.export import export_descriptions
>>> paths = export_descriptions(frame, descriptions, "out/")  # doctest: +SKIP
>>> sorted(p.name for p in paths)  # doctest: +SKIP
['descriptions.jsonl', 'descriptions.parquet']
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from steervis.atomic import atomic_path
from steervis.vllavo.describe.description import Description


def descriptions_frame(frame: pd.DataFrame, descriptions: list[Description | None],
                       components: list[str] | None = None) -> pd.DataFrame:
    """The export table: one row per successfully described image."""
    rows = []
    for rec, desc in zip(frame.to_dict("records"), descriptions, strict=True):
        if desc is None:
            continue
        rows.append({
            "path": str(rec["path"]), "domain": rec.get("domain"), "class": rec.get("class"),
            "sha256": rec["sha256"], "description": desc.render(components),
            "tags": [t for t, _ in desc.tags], "attributes": [a for a, _ in desc.attributes],
            "captions": list(desc.captions),
        })
    return pd.DataFrame(rows, columns=["path", "domain", "class", "sha256", "description", "tags",
                                       "attributes", "captions"])


def _atomic(path: Path, write) -> Path:
    with atomic_path(path) as tmp:
        write(tmp)
    return path


def export_descriptions(frame: pd.DataFrame, descriptions: list[Description | None], out_dir: str | Path,
                        components: list[str] | None = None) -> list[Path]:
    """Write ``descriptions.parquet`` and ``descriptions.jsonl`` into ``out_dir`` (atomically)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = descriptions_frame(frame, descriptions, components)

    def jsonl(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as handle:
            for row in table.to_dict("records"):
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    return [_atomic(out / "descriptions.parquet", lambda tmp: table.to_parquet(tmp, index=False)),
            _atomic(out / "descriptions.jsonl", jsonl)]
