"""The description store: a :class:`~steervis.store.Store` of one record per image sha256, one folder per
describer config hash.

Layout: ``<root>/<config_hash>/identity.json`` (what the hash stands for: the describer's content fields) and
``part-*.parquet``, one per described batch. Everything about parts (atomic writes, first row per sha256 wins,
damaged parts set aside and described again, compaction) is the store's; this class only names the columns.

>>> import tempfile
>>> from steervis.vllavo.describe.store import DescriptionStore
>>> store = DescriptionStore(tempfile.mkdtemp(), "abc123")
>>> _ = store.append([{"sha256": "00ff", "status": "ok", "error": None, "description": "{}"}])
>>> sorted(store.read())
['00ff']
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from steervis.store import Store

COLUMNS = ["sha256", "status", "error", "description", "created"]


class DescriptionStore(Store):
    """Records of one describer config: ``sha256``, ``status`` (ok|failed), ``error``, ``description``
    (JSON), ``created``.

    Args:
        root: Store folder (e.g. ``$STEERVIS_HOME/descriptions``).
        config_hash: The describer config hash; each hash gets its own sub-folder.
        config: What the hash stands for, written once to ``identity.json`` for people and other engines.
    """

    def __init__(self, root: str | Path, config_hash: str, config: dict[str, Any] | None = None):
        super().__init__(Path(root).expanduser() / config_hash, key="sha256", identity=config,
                         what="description part")
        self.config_hash = config_hash

    def append(self, records: list[dict[str, Any]]) -> Path | None:
        """Write one part of records (each with ``sha256``, ``status``, ``error``, ``description``)."""
        frame = pd.DataFrame(records, columns=COLUMNS[:-1]).assign(created=time.time())
        return self.put(frame)

    def read(self, shas: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """sha256 → record (first written wins), optionally only for ``shas``, as the folder holds them now
        (parts another run wrote since this store last looked included)."""
        self.refresh()
        return {row["sha256"]: row for row in self.frame(shas).to_dict("records")}

    def frame(self, shas: Iterable[str] | None = None) -> pd.DataFrame:
        """Every stored record (or those of ``shas``), one row per sha256."""
        return self.rows(shas).reindex(columns=COLUMNS)
