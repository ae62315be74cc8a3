"""Image data: one loader for any ``<root>/<domain>/<class>/<image>`` folder, minidomains, the pool, toys.

Names are imported lazily so ``import steervis.data`` stays instant (pandas/PIL load on first use).

>>> import tempfile
>>> from steervis.data import load_folder, make_toy_dataset
>>> int(load_folder(make_toy_dataset(tempfile.mkdtemp())).counts().loc["total", "total"])
24
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "BadImage": "steervis.data.images",
    "open_image": "steervis.data.images",
    "sha256_file": "steervis.data.images",
    "DecodedImages": "steervis.data.decoded",
    "FolderData": "steervis.data.folder",
    "load_folder": "steervis.data.folder",
    "count_table": "steervis.data.folder",
    "read_manifest": "steervis.data.manifest",
    "write_manifest": "steervis.data.manifest",
    "make_toy_dataset": "steervis.data.synthetic",
    "build_minidomains": "steervis.data.minidomains",
    "minidomains_root": "steervis.data.minidomains",
    "build_pool": "steervis.data.pool",
    "pool_root": "steervis.data.pool",
    "Pool": "steervis.data.pool",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
