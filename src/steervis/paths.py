"""Where steervis keeps weights, data and descriptions: ``STEERVIS_HOME`` (default ``~/.cache/steervis``).

>>> from steervis.paths import steervis_home
>>> steervis_home().name  # doctest: +SKIP
'steervis'
"""

from __future__ import annotations

import os
from pathlib import Path


def home_path() -> Path:
    """Where the cache root is, without creating it."""
    return Path(os.environ.get("STEERVIS_HOME", Path.home() / ".cache" / "steervis")).expanduser()


def steervis_home() -> Path:
    """The cache root; created on first use."""
    root = home_path()
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_dir(*parts: str) -> Path:
    """A sub-folder of the cache, created on first use (e.g. ``cache_dir("models", "smollm2")``)."""
    path = steervis_home().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
