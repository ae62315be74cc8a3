"""``steervis cache prune``: delete cached artifacts that no key of today's code can reach, and say how much.

Every cached artifact lives in an entry (a folder, or a file) whose identity record (``identity.json`` in the
folder, ``<file>.identity.json`` beside a file) holds what its key stands for (:mod:`steervis.identity`). An
entry is reachable only when its record's behaviour versions are today's and its key is what today's key
function makes of the record. Entries without a record were written before identities existed (the last cache
break) and are unreachable too. Only the cache's artifact areas are walked: data sets, downloads, the embedded
models and the models trained here (``stage1``, ``react-pool``) are never touched.

>>> import tempfile, pathlib
>>> home = pathlib.Path(tempfile.mkdtemp())
>>> (home / "descriptions" / "0123456789abcdef").mkdir(parents=True)
>>> [e.name for e in stale_entries(home)]
['0123456789abcdef']
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steervis.identity import is_current

RECORD = "identity.json"
# The cache's artifact areas, each a folder of keyed entries (see each writer for what it keys).
AREAS = ("descriptions", "features", "vlm-features", "vlm-engine", "retrieval", "descriptors",
         "describe/text-embeddings", "models/react", "ground-descriptions", "vrl-answers", "vrl-vlm-scores")


def record_path(entry: Path) -> Path:
    return entry / RECORD if entry.is_dir() else entry.with_name(entry.name + "." + RECORD)


def write_record(entry: Path, key: str, record: dict[str, Any]) -> None:
    """Keep what ``key`` stands for beside ``entry`` (written once; atomically)."""
    from steervis.atomic import write_text

    path = record_path(entry)
    if not path.exists():
        write_text(path, json.dumps({"key": key, **record}, indent=2, sort_keys=True, default=str))


def reachable(entry: Path) -> bool:
    """Whether today's code can reach ``entry``: its record is readable, current and names its key."""
    try:
        data = json.loads(record_path(entry).read_text())
        key = data.pop("key")
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return False
    return is_current(data, key)


def _entries(home: Path) -> Iterator[Path]:
    for area in AREAS:
        folder = home / area
        if folder.is_dir():
            yield from (p for p in sorted(folder.iterdir()) if not p.name.endswith("." + RECORD)
                        and not p.name.startswith("."))


def stale_entries(home: Path) -> list[Path]:
    return [entry for entry in _entries(home) if not reachable(entry)]


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@dataclass
class PruneReport:
    removed: list[tuple[str, int]] = field(default_factory=list)  # (entry, bytes)
    kept: int = 0

    @property
    def freed(self) -> int:
        return sum(size for _, size in self.removed)


def prune(home: Path, dry_run: bool = False) -> PruneReport:
    """Delete (or with ``dry_run`` only list) every entry of the artifact areas today's keys cannot reach."""
    report = PruneReport()
    stale = set(stale_entries(home))
    for entry in _entries(home):
        if entry not in stale:
            report.kept += 1
            continue
        report.removed.append((str(entry.relative_to(home)), size_of(entry)))
        if not dry_run:
            record_path(entry).unlink(missing_ok=True)
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)
    return report
