"""Behaviour fingerprints: a package's cached outputs may change only with its behaviour version.

Every cache key holds the behaviour version of the packages that computed it (``steervis.identity``). This
test runs each package's cached computation on a fixed tiny input and compares the hash of the output with
``fingerprints.json``, keyed ``package@version``. An output that changes while the version stays fails: bump
the package's number in ``steervis.identity.BEHAVIOUR`` (its caches become new keys) and record the new
fingerprint with ``STEERVIS_RECORD_FINGERPRINTS=1 pytest tests/core/test_fingerprints.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from fingerprint_cases import CASES, rounded

from steervis.identity import BEHAVIOUR

TABLE = Path(__file__).with_name("fingerprints.json")
RECORD = bool(os.environ.get("STEERVIS_RECORD_FINGERPRINTS"))


def fingerprint(output) -> str:
    return hashlib.sha256(json.dumps(rounded(output), sort_keys=True).encode()).hexdigest()[:16]


def test_every_versioned_package_has_a_case():
    assert set(CASES) == set(BEHAVIOUR)


@pytest.mark.parametrize("package", sorted(CASES))
def test_outputs_match_the_fingerprint_of_their_behaviour_version(package, tmp_path, monkeypatch):
    monkeypatch.setenv("STEERVIS_HOME", str(tmp_path / "home"))
    import torch

    torch.manual_seed(0)
    got = fingerprint(CASES[package](tmp_path))
    key = f"{package}@{BEHAVIOUR[package]}"
    table = json.loads(TABLE.read_text()) if TABLE.exists() else {}
    if RECORD and table.get(key) != got:
        table[key] = got
        TABLE.write_text(json.dumps(dict(sorted(table.items())), indent=2) + "\n")
    assert key in table, f"no fingerprint for {key}: record it (STEERVIS_RECORD_FINGERPRINTS=1)"
    assert table[key] == got, (
        f"{package}'s outputs changed while its behaviour version stayed {BEHAVIOUR[package]}: bump "
        f"BEHAVIOUR[{package!r}] in steervis/identity.py and record the fingerprint, or undo the change")
