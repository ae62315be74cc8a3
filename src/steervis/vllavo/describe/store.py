"""The content-addressed description store: Parquet parts keyed by (image sha256, describer config hash).

Layout: ``<root>/<config_hash>/config.json`` (what the hash stands for) and ``part-*.parquet`` files, each
written to a temporary name and atomically renamed, never modified. A SIGKILL at any moment therefore
leaves only whole parts (plus, at worst, a stray hidden temporary that readers ignore): nothing finished is
lost. A part damaged anyway (a truncated copy, a failing disk) is set aside as ``*.corrupt`` with a warning
and its images are described again. Readers keep the first row per sha256, so even two runs racing on the same
images never yield duplicates. :meth:`DescriptionStore.compact` merges parts under a lock.

>>> import tempfile
>>> from steervis.vllavo.describe.store import DescriptionStore
>>> store = DescriptionStore(tempfile.mkdtemp(), "abc123")
>>> _ = store.append([{"sha256": "00ff", "status": "ok", "error": None, "description": "{}"}])
>>> sorted(store.read())
['00ff']
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from steervis.atomic import DAMAGED, atomic_path, set_aside, write_text


def _write_part(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
        with open(tmp, "rb") as handle:
            # bytes on disk before the name appears: a crash never exposes a torn part
            os.fsync(handle.fileno())


COLUMNS = ["sha256", "status", "error", "description", "created"]
# Merging more parts than this at the end of a run keeps warm reads to a handful of files.
COMPACT_AT = 8


class DescriptionStore:
    """Append-only Parquet parts for one describer config.

    Args:
        root: Store folder (e.g. ``$STEERVIS_HOME/descriptions``).
        config_hash: The describer config hash; each hash gets its own sub-folder.
        config: What the hash stands for, written once to ``config.json`` for people and other engines.
    """

    def __init__(self, root: str | Path, config_hash: str, config: dict[str, Any] | None = None):
        self.dir = Path(root).expanduser() / config_hash
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config_hash = config_hash
        self._seen: set[str] = set()  # parts already read by refresh()
        meta = self.dir / "config.json"
        if config is not None and not meta.exists():
            write_text(meta, json.dumps(config, indent=2, sort_keys=True, default=str))

    def parts(self) -> list[Path]:
        return sorted(self.dir.glob("part-*.parquet"))

    def append(self, records: list[dict[str, Any]]) -> Path | None:
        """Write one part atomically; records need ``sha256``, ``status`` (ok|failed), ``error``,
        ``description``."""
        if not records:
            return None
        frame = pd.DataFrame(records)
        frame["created"] = time.time()
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        _write_part(frame[COLUMNS], self.dir / name)
        self._seen.add(name)
        return self.dir / name

    def _read_parts(self, parts: list[Path]) -> list[pd.DataFrame]:
        frames, vanished = [], False
        for part in parts:
            try:
                frames.append(pd.read_parquet(part, columns=COLUMNS))
            # a concurrent compaction removed it: its rows live on in the merged part
            except FileNotFoundError:
                vanished = True
                continue
            # truncated or overwritten (ArrowInvalid is a ValueError): its rows are redone
            except DAMAGED as err:
                set_aside(part, err, "description part")
                continue
            self._seen.add(part.name)
        if vanished:  # the merged part is written before the old ones go: one more look finds it
            frames += self._read_parts([p for p in self.parts() if p.name not in self._seen])
        return frames

    def refresh(self, shas: set[str] | None = None) -> dict[str, dict[str, Any]]:
        """Like :meth:`read`, but only from parts written since this object last read or wrote."""
        return self._records(self._read_parts([p for p in self.parts() if p.name not in self._seen]), shas)

    def read(self, shas: set[str] | None = None) -> dict[str, dict[str, Any]]:
        """sha256 → record (first written wins), optionally only for ``shas``."""
        return self._records(self._read_parts(self.parts()), shas)

    @staticmethod
    def _records(frames: list[pd.DataFrame], shas: set[str] | None) -> dict[str, dict[str, Any]]:
        if not frames:
            return {}
        frame = pd.concat(frames, ignore_index=True).drop_duplicates("sha256", keep="first")
        if shas is not None:
            frame = frame[frame["sha256"].isin(shas)]
        return {row["sha256"]: row for row in frame.to_dict("records")}

    def frame(self) -> pd.DataFrame:
        """Every stored row (deduplicated) as a DataFrame."""
        records = list(self.read().values())
        return pd.DataFrame(records, columns=COLUMNS)

    def compact(self, min_parts: int = COMPACT_AT) -> bool:
        """Merge all parts into one when there are at least ``min_parts``; skipped if another run holds the
        lock."""
        parts = self.parts()
        if len(parts) < min_parts:
            return False
        with open(self.dir / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
            frames = self._read_parts(self.parts())
            parts = [p for p in self.parts() if p.name in self._seen]  # whole ones only (damaged: set aside)
            if not frames:
                return False
            merged = pd.concat(frames, ignore_index=True).drop_duplicates("sha256", keep="first")
            # The merged part sorts before newer parts (its name carries the oldest part's time): first wins.
            name = parts[0].name.replace(".parquet", f"-c{uuid.uuid4().hex[:6]}.parquet")
            _write_part(merged, self.dir / name)
            for part in parts:  # killed mid-way: old and merged parts overlap, and readers deduplicate
                part.unlink(missing_ok=True)
        return True
