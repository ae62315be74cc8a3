"""The content-addressed store: atomic parts, first-wins deduplication, compaction, stray temp files."""

from steervis.vllavo.describe.store import DescriptionStore


def rec(sha, text="{}", status="ok"):
    return {"sha256": sha, "status": status, "error": None if status == "ok" else "bad", "description": text}


def test_append_read_deduplicates_first_wins(tmp_path):
    store = DescriptionStore(tmp_path, "h1", {"matcher": "x"})
    store.append([rec("a", "first"), rec("b")])
    store.append([rec("a", "second"), rec("c", status="failed")])
    rows = store.read()
    assert sorted(rows) == ["a", "b", "c"]
    assert rows["a"]["description"] == "first"
    assert rows["c"]["status"] == "failed"
    assert sorted(store.read({"b", "zz"})) == ["b"]
    assert (tmp_path / "h1" / "identity.json").exists()


def test_stray_temp_file_is_ignored_and_compaction_keeps_rows(tmp_path):
    store = DescriptionStore(tmp_path, "h2")
    for i in range(4):
        store.append([rec(f"s{i}"), rec("dup", f"v{i}")])
    (store.dir / ".part-999.parquet.tmp").write_bytes(b"half a file")  # what a SIGKILL mid-write leaves
    assert store.compact(min_parts=3)
    assert len(store.parts()) == 1
    rows = store.read()
    assert sorted(rows) == ["dup", "s0", "s1", "s2", "s3"]
    assert rows["dup"]["description"] == "v0"


def test_configs_do_not_mix(tmp_path):
    DescriptionStore(tmp_path, "one").append([rec("a")])
    assert DescriptionStore(tmp_path, "two").read() == {}
