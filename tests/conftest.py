"""Shared test setup: never touch the network; a private STEERVIS_HOME for tests that write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests must never try the hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REAL_HOME = Path(os.environ.get("STEERVIS_HOME", Path.home() / ".cache" / "steervis")).expanduser()


@pytest.fixture
def tmp_home(tmp_path, monkeypatch) -> Path:
    """An empty STEERVIS_HOME for tests that write to the cache."""
    home = tmp_path / "steervis-home"
    monkeypatch.setenv("STEERVIS_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def minidomains_root() -> Path:
    """The real minidomains benchmark built by `steervis setup`; tests that need it skip when it is absent."""
    root = REAL_HOME / "data" / "minidomains"
    if not (root / "manifest.parquet").exists():
        pytest.skip("minidomains is not built (run `steervis setup`)")
    return root
