"""``manifest.parquet``: one row per image (path relative to root, domain, class, source, licence, sha256,
origin).

Written deterministically (sorted rows, fixed schema and writer settings, no timestamps), so building the
same data twice gives byte-identical files; written atomically, so its presence marks a complete dataset.

>>> import tempfile
>>> from steervis.data.manifest import write_manifest, read_manifest
>>> root = tempfile.mkdtemp()
>>> _ = write_manifest(root, [{"path": "a/b/c.png", "domain": "a", "class": "b",
...                            "source": "synthetic", "licence": "CC0-1.0", "sha256": "0" * 64}])
>>> read_manifest(root)["class"].tolist()
['b']
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steervis.atomic import atomic_path

if TYPE_CHECKING:
    import pandas as pd

MANIFEST_NAME = "manifest.parquet"
# ``origin`` says where inside the source package the image came from (a path or a codepoint).
COLUMNS = ("path", "domain", "class", "source", "licence", "sha256", "origin")


def write_manifest(root: str | Path, rows: Iterable[dict[str, Any]], columns: tuple[str, ...] = COLUMNS,
                   sort_by: tuple[str, ...] = ("domain", "class", "path")) -> Path:
    """Write ``<root>/manifest.parquet`` from dict rows (string columns ``columns``, rows sorted by
    ``sort_by``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = Path(root)
    ordered = sorted(rows, key=lambda r: tuple(r[k] for k in sort_by))
    schema = pa.schema([(name, pa.string()) for name in columns])
    table = pa.Table.from_pydict({c: [str(r.get(c, "")) for r in ordered] for c in columns}, schema=schema)
    path = root / MANIFEST_NAME
    with atomic_path(path) as tmp:
        # Fixed writer settings: the bytes depend only on the rows (no pandas index metadata, no statistics
        # drift).
        pq.write_table(
            table, tmp, compression="zstd", compression_level=3, use_dictionary=False,
            write_statistics=False, version="2.6", store_schema=False,
        )
    return path


def read_manifest(root: str | Path) -> pd.DataFrame:
    """The manifest of ``root`` as a DataFrame (raises FileNotFoundError when absent)."""
    import pandas as pd

    return pd.read_parquet(Path(root) / MANIFEST_NAME)
