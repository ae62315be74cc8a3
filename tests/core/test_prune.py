"""`steervis cache prune`: what no key of today's code reaches goes, with its bytes; nothing else goes."""

from __future__ import annotations

import json

from steervis.cli import main
from steervis.identity import BEHAVIOUR, artifact_key, artifact_record
from steervis.prune import prune, size_of, write_record


def entry(home, area, record, files=1):
    key = artifact_key(**record) if record else "0123456789abcdef"
    folder = home / area / key
    folder.mkdir(parents=True)
    for i in range(files):
        (folder / f"part-{i}.bin").write_bytes(b"x" * 1000)
    if record:
        write_record(folder, key, artifact_record(**record))
    return folder


def test_prune_deletes_what_no_current_key_reaches_and_keeps_the_rest(tmp_home, monkeypatch, capsys):
    current = entry(tmp_home, "descriptions", {"kind": "description", "config": {"matcher": "conse"}})
    unrecorded = entry(tmp_home, "features", None, files=3)  # written before identities existed
    old = entry(tmp_home, "descriptions", {"kind": "description", "config": {"matcher": "clip"}})
    monkeypatch.setitem(BEHAVIOUR, "describe", BEHAVIOUR["describe"] + 1)  # a behaviour change since
    moved = entry(tmp_home, "descriptions", {"kind": "description", "config": {"matcher": "conse"}})
    data = tmp_home / "data" / "minidomains"
    data.mkdir(parents=True)
    (data / "manifest.parquet").write_bytes(b"y" * 10)

    dry = prune(tmp_home, dry_run=True)
    assert sorted(name for name, _ in dry.removed) == sorted(
        [f"descriptions/{current.name}", f"descriptions/{old.name}", f"features/{unrecorded.name}"])
    assert dry.freed == sum(size_of(p) for p in (current, old, unrecorded)) > 5000 and current.exists()

    assert main(["cache", "prune"]) == 0
    out = capsys.readouterr().out
    assert "freed 0.0 MB in 3 entries; kept 1" in out
    assert moved.exists() and not current.exists() and not old.exists() and not unrecorded.exists()
    assert (data / "manifest.parquet").exists()


def test_a_damaged_record_is_unreachable(tmp_home):
    folder = entry(tmp_home, "retrieval", {"kind": "retrieval", "config": {"mode": "t2t"}})
    (folder / "identity.json").write_text("{not json")
    assert [name for name, _ in prune(tmp_home).removed] == [f"retrieval/{folder.name}"]


def test_a_record_whose_key_was_edited_is_unreachable(tmp_home):
    folder = entry(tmp_home, "retrieval", {"kind": "retrieval", "config": {"mode": "t2t"}})
    record = json.loads((folder / "identity.json").read_text())
    (folder / "identity.json").write_text(json.dumps({**record, "config": {"mode": "t2i"}}))
    assert len(prune(tmp_home).removed) == 1
