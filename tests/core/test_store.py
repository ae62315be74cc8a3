"""The one store: vectors and rows under keys, first part wins, damaged parts redone, compaction, records."""

import fcntl
import json
import logging

import numpy as np
import pandas as pd
import pytest

from steervis.store import Store
from steervis.store.claims import Claims


def test_two_writers_lose_nothing_and_the_first_part_wins(tmp_path):
    one, two = Store(tmp_path), Store(tmp_path)  # two writers on one store
    one.put_vectors(["a", "b"], np.ones((2, 3)))
    two.put_vectors(["b", "c"], np.zeros((2, 3)))  # "b" again, as by a run racing on it
    reader = Store(tmp_path)
    assert reader.missing(["a", "b", "c", "d", "d"]) == ["d"] and len(reader) == 3
    got = reader.vectors(["c", "b", "b", "a"])
    assert got.dtype == np.float32 and got[:, 0].tolist() == [0, 1, 1, 1]
    with pytest.raises(KeyError, match="d"):
        reader.vectors(["a", "d"])


def test_a_damaged_part_is_set_aside_and_its_keys_count_as_missing(tmp_path, caplog):
    store = Store(tmp_path)
    store.put_vectors(["a"], np.ones((1, 2)))
    store.put_vectors(["b"], np.ones((1, 2)))
    part = store.parts()[0]
    part.write_bytes(part.read_bytes()[:30])  # truncated, as by a failing disk
    (tmp_path / ".part-9.parquet.tmp-1-x").write_bytes(b"half")  # what a SIGKILL mid-write leaves
    with caplog.at_level(logging.WARNING):
        healed = Store(tmp_path)
    assert healed.missing(["a", "b"]) == ["a"] and "damaged" in caplog.text
    assert part.with_name(part.name + ".corrupt").exists() and not part.exists()


def test_vectors_keep_their_shape_and_half_precision_on_disk(tmp_path):
    tokens = np.arange(2 * 4 * 3, dtype=np.float16).reshape(2, 4, 3)
    Store(tmp_path).put_vectors(["x", "y"], tokens)
    got = Store(tmp_path).vectors(["y"])
    assert got.shape == (1, 4, 3) and got.dtype == np.float16 and (got[0] == tokens[1]).all()


def test_a_key_may_hold_many_rows_and_they_come_from_one_part(tmp_path):
    store = Store(tmp_path, key="part")
    store.put(pd.DataFrame({"part": ["p1"] * 3, "pred": ["a", "b", "c"]}))
    store.put(pd.DataFrame({"part": ["p1", "p2"], "pred": ["late", "z"]}))  # p1 again: the first part wins
    rows = Store(tmp_path, key="part").rows(["p1"])
    assert rows["pred"].tolist() == ["a", "b", "c"]
    assert sorted(Store(tmp_path, key="part").rows()["pred"]) == ["a", "b", "c", "z"]


def test_compaction_merges_once_keeps_first_rows_and_a_reader_opened_before_still_reads(tmp_path):
    store = Store(tmp_path)
    for i in range(4):
        store.put_vectors([f"k{i}", "dup"], np.full((2, 2), i))
    before = Store(tmp_path)  # a reader that read the parts about to be merged
    with open(tmp_path / ".lock", "w") as lock:  # another run compacting: skipped, not waited for
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert not store.compact(min_parts=3)
    assert store.compact(min_parts=3) and len(store.parts()) == 1
    assert not store.compact(min_parts=3)  # one part: nothing to merge
    before.refresh()
    assert before.vectors(["dup", "k3"])[:, 0].tolist() == [0, 3]
    assert len(before._tables) == 1  # the merged part replaced the old ones in memory too
    assert Store(tmp_path).vectors(["dup", "k0", "k3"])[:, 0].tolist() == [0, 0, 3]


def test_the_identity_is_written_once_and_stores_are_listed_with_it_and_their_bytes(tmp_path):
    one = Store(tmp_path / "features" / "a", identity={"matcher": "m1"})
    Store(tmp_path / "features" / "a", identity={"matcher": "other"})  # the first record stays
    one.put_vectors(["k"], np.ones((1, 4)))
    Store(tmp_path / "descriptions" / "h", key="sha256")  # a folder without a record (no identity passed)
    (tmp_path / "descriptions" / "h" / "part-0.parquet").write_bytes(b"x")
    (tmp_path / "other").mkdir()  # not a store
    found = Store.under(tmp_path)
    assert [f.path.relative_to(tmp_path).as_posix() for f in found] == ["descriptions/h", "features/a"]
    assert found[1].identity == {"matcher": "m1"} and found[0].identity is None
    assert found[1].bytes == sum(p.stat().st_size for p in (tmp_path / "features" / "a").iterdir())
    assert json.loads((tmp_path / "features" / "a" / "identity.json").read_text()) == {"matcher": "m1"}


def test_claims_split_missing_keys_and_a_dead_runs_claim_is_taken_over(tmp_path):
    store = Store(tmp_path)
    _, mine = Claims(store).next_chunk(list("abcd"), limit=3)
    _, theirs = Claims(Store(tmp_path)).next_chunk(list("abcd"), limit=3)
    assert mine.keys == ["a", "b", "c"] and theirs.keys == ["d"]
    assert Claims(store).next_chunk(list("abcd"), limit=3)[1] is None  # all held by live runs: wait
    (tmp_path / "claims" / "claim-1-dead.json").write_text(json.dumps(["x"]))  # written by a killed run
    assert Claims(store).next_chunk(["x"], limit=3)[1].keys == ["x"]
    Store(tmp_path).put_vectors(["a"], np.ones((1, 1)))  # another run finished "a"
    mine.release()
    done, claim = Claims(store).next_chunk(list("abc"), limit=3)
    assert done == ["a"] and claim.keys == ["b", "c"]
