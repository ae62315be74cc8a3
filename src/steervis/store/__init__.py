"""The one content-addressed store: a folder of immutable Parquet parts, each row under a key.

Descriptions (keyed by image sha256), image and text features (float rows in a fixed-size-list column) and an
evaluate run's parts (many rows under one key) all live in a :class:`Store`. A part is written to a hidden
temporary, fsynced and renamed into place, never modified: a SIGKILL leaves only whole parts. Reading merges
the parts; a key's rows come from the first part (by name, i.e. time) that holds it, so two runs racing on a
key never yield duplicates. A damaged part is set aside as ``*.corrupt`` and its keys count as missing, so
they are computed again. :meth:`Store.compact` merges parts under a lock nobody waits for, and
:class:`~steervis.store.claims.Claims` splits missing keys between runs working at once.

Each folder holds ``identity.json``, written once: what its key stands for (a describer's settings, a feature
extractor). :meth:`Store.under` lists the store folders under a root with that record and their bytes on disk.

>>> import tempfile, numpy as np
>>> store = Store(tempfile.mkdtemp(), identity={"features": "toy"})
>>> _ = store.put_vectors(["a", "b"], np.eye(2, dtype=np.float32))
>>> store.missing(["a", "c"]), store.vectors(["b", "a"]).tolist()
(['c'], [[0.0, 1.0], [1.0, 0.0]])
>>> [info.identity for info in Store.under(store.dir.parent) if info.path == store.dir]
[{'features': 'toy'}]
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from steervis.atomic import DAMAGED, atomic_path, set_aside, write_text

IDENTITY = "identity.json"
PART = re.compile(r"part-.+\.parquet")
VECTOR = "vector"  # the fixed-size-list column of a vector store
# Merging more parts than this at the end of a run keeps warm reads to a handful of files.
COMPACT_AT = 8


def _write(table: pa.Table, path: Path) -> None:
    # Float rows barely compress and gain nothing from a dictionary or statistics: plain floats read fastest.
    vectors = VECTOR in table.column_names
    plain = [c for c in table.column_names if c != VECTOR]
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="none" if vectors else "snappy", use_dictionary=plain,
                       write_statistics=plain)
        with open(tmp, "rb") as handle:
            # bytes on disk before the name appears: a crash never exposes a torn part
            os.fsync(handle.fileno())


@dataclass(frozen=True)
class StoreInfo:
    """A store folder, what its key stands for (``None``: no readable record) and its bytes on disk."""
    path: Path
    identity: dict[str, Any] | None
    bytes: int


class Store:
    """Immutable Parquet parts in ``directory``, merged on reading, first part wins per key.

    Args:
        directory: The store's folder (created).
        key: The key column's name (``sha256`` for descriptions, ``key`` for vectors).
        identity: What the folder's key stands for, written once to ``identity.json``.
        what: How warnings name a damaged part ("description part", "run part").
    """

    def __init__(self, directory: str | Path, key: str = "key", identity: dict[str, Any] | None = None,
                 what: str = "store part"):
        self.dir = Path(directory).expanduser()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key, self.what = key, what
        self._tables: dict[str, pa.Table] = {}  # part name → its rows, in name order
        self._keys: dict[str, set[str]] = {}  # part name → its keys
        self._all: set[str] = set()
        if identity is not None and not (self.dir / IDENTITY).exists():
            write_text(self.dir / IDENTITY, json.dumps(identity, indent=2, sort_keys=True, default=str))
        self.refresh()

    @classmethod
    def for_artifact(cls, root: Path, name: str, kind: str, config: Any = None, weights: Sequence[str] = (),
                     **kwargs: Any) -> Store:
        """The store of one kind of artifact (:mod:`steervis.identity`): its folder ``root/<name>-<key>``
        is keyed by the config, weights and behaviour versions, and its record says so."""
        from steervis.identity import artifact_record, stamped

        identity = stamped(artifact_record(kind, config=config, weights=weights))
        safe = name.replace("/", "--").replace(":", "-")
        return cls(Path(root) / f"{safe}-{identity['key']}", identity=identity, **kwargs)

    def parts(self) -> list[Path]:
        return sorted(self.dir.glob("part-*.parquet"))

    def refresh(self) -> None:
        """Read the parts written since the last look (by this process or another)."""
        for _ in range(2):
            names = [p.name for p in self.parts()]
            vanished = any(name not in names for name in self._tables)
            for name in names:
                if name not in self._tables:
                    vanished |= not self._load(name)
            # A compaction writes its merged part before removing the old ones: one more look finds it.
            if not vanished:
                break
        if any(name not in names for name in self._tables):  # merged into a part read above
            self._tables = {n: t for n, t in self._tables.items() if n in names}
            self._keys = {n: k for n, k in self._keys.items() if n in names}
            self._all = set().union(*self._keys.values())

    def _load(self, name: str) -> bool:
        """Read one part; ``False`` if it vanished (merged by a compaction meanwhile)."""
        try:
            table = pq.ParquetFile(self.dir / name).read()
            if self.key not in table.column_names:
                raise KeyError(f"no column {self.key!r}")
        except FileNotFoundError:
            return False
        except DAMAGED as err:  # truncated or overwritten (ArrowInvalid is a ValueError): its keys are redone
            set_aside(self.dir / name, err, self.what)
            return True
        self._add(name, table)
        return True

    def _add(self, name: str, table: pa.Table) -> None:
        self._tables[name] = table
        if name < max(self._tables):  # a part named before one already read: keep name order (first wins)
            self._tables = dict(sorted(self._tables.items()))
        self._keys[name] = set(table.column(self.key).to_pylist())
        self._all |= self._keys[name]

    def __contains__(self, key: str) -> bool:
        return key in self._all

    def __len__(self) -> int:
        return len(self._all)

    def missing(self, keys: Iterable[str]) -> list[str]:
        """``keys`` not in the store, each once, in order."""
        return [k for k in dict.fromkeys(keys) if k not in self._all]

    # ---- writing ---------------------------------------------------------------------------------------
    def put(self, rows: pd.DataFrame | pa.Table) -> Path | None:
        """Write ``rows`` (with the key column) as one new part, atomically; ``None`` when there are none."""
        table = rows if isinstance(rows, pa.Table) else pa.Table.from_pandas(rows, preserve_index=False)
        if table.num_rows == 0:
            return None
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        _write(table, self.dir / name)
        self._add(name, table)
        return self.dir / name

    def put_vectors(self, keys: Sequence[str], vectors: np.ndarray) -> Path | None:
        """One row per key; ``vectors``: ``[len(keys), *shape]``, float32 (or float16: half the bytes)."""
        vectors = np.ascontiguousarray(vectors)
        if vectors.dtype not in (np.float16, np.float32):
            vectors = vectors.astype(np.float32)
        shape = list(vectors.shape[1:])
        column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), int(np.prod(shape)))
        table = pa.table({self.key: pa.array(list(keys), pa.string()), VECTOR: column},
                         metadata={"shape": json.dumps(shape)})
        return self.put(table)

    # ---- reading ---------------------------------------------------------------------------------------
    def table(self, keys: Iterable[str] | None = None) -> pa.Table:
        """The rows of ``keys`` (all keys: ``None``), each key's from the first part that holds it."""
        wanted = None if keys is None else set(keys)
        taken: set[str] = set()
        pieces = []
        for name, table in self._tables.items():
            if wanted is not None and len(taken) == len(wanted):
                break
            have = self._keys[name]
            hit = (have - taken) if wanted is None else (have & wanted) - taken
            if not hit:
                continue
            if len(hit) < len(have):
                column = table.column(self.key)
                table = table.filter(pc.is_in(column, value_set=pa.array(list(hit), column.type)))
            pieces.append(table)
            taken |= hit
        if not pieces:
            return pa.table({self.key: pa.array([], pa.string())})
        return pa.concat_tables(pieces, promote_options="permissive")

    def rows(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        return self.table(keys).to_pandas()

    def vectors(self, keys: Sequence[str]) -> np.ndarray:
        """``[len(keys), *shape]``, one row per key (keys may repeat); a missing key is a ``KeyError``."""
        if len(keys) == 0:
            return np.zeros((0, 0), np.float32)
        table = self.table(keys)
        index = pd.Index(table.column(self.key).to_numpy(zero_copy_only=False))
        if not index.is_unique:  # a part that holds a key twice: its first row
            keep = np.flatnonzero(~index.duplicated())
            table, index = table.take(keep), index[keep]
        where = index.get_indexer(keys)
        if len(where) and where.min() < 0:
            raise KeyError(f"not in the store {self.dir}: {keys[int(np.argmin(where))]}")
        column = table.column(VECTOR)
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()  # one part: no copy
        shape = json.loads((table.schema.metadata or {}).get(b"shape", b"null")) or [column.type.list_size]
        values = column.flatten().to_numpy(zero_copy_only=False).reshape(len(column), *shape)
        return values if np.array_equal(where, np.arange(len(values))) else values[where]

    # ---- upkeep ----------------------------------------------------------------------------------------
    def compact(self, min_parts: int = COMPACT_AT) -> bool:
        """Merge every part into one when there are at least ``min_parts``; skipped (``False``) while another
        run compacts."""
        if len(self.parts()) < min_parts:
            return False
        with open(self.dir / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
            self.refresh()
            names = list(self._tables)  # whole ones only (damaged ones are set aside)
            if len(names) < min_parts:
                return False
            merged = self.table()
            # The merged part sorts before newer parts (its name carries the oldest part's time): first wins.
            name = names[0].replace(".parquet", f"-c{uuid.uuid4().hex[:6]}.parquet")
            _write(merged, self.dir / name)
            for old in names:  # killed mid-way: old and merged parts overlap, and readers keep the first
                (self.dir / old).unlink(missing_ok=True)
        self._tables, self._keys = {name: merged}, {name: set(self._all)}
        return True

    @classmethod
    def under(cls, root: str | Path) -> list[StoreInfo]:
        """Every store folder under ``root`` (one holding ``identity.json`` or parts), with its record and
        bytes."""
        found = []
        for folder, dirs, files in os.walk(root):
            if IDENTITY not in files and not any(PART.fullmatch(f) for f in files):
                continue
            dirs.clear()  # a store's own sub-folders (claims) count towards its bytes
            path = Path(folder)
            try:
                identity = json.loads((path / IDENTITY).read_text())
            except DAMAGED:  # FileNotFoundError is an OSError: no record
                identity = None
            size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
            found.append(StoreInfo(path, identity, size))
        return sorted(found, key=lambda info: str(info.path))


from steervis.store.claims import Claim, Claims  # noqa: E402  (one module reads both)

__all__ = ["COMPACT_AT", "Claim", "Claims", "Store", "StoreInfo"]
