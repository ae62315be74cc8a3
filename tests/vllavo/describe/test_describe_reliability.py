"""The description store heals and shares: damaged parts redone, claimed work, keys naming the matcher's
weights."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap

import pytest

from steervis.data import load_folder, make_toy_dataset
from steervis.store.claims import Claims
from steervis.vllavo.describe import DescribeConfig, describe
from steervis.vllavo.describe.store import DescriptionStore


@pytest.fixture
def toy(tmp_path):
    return make_toy_dataset(tmp_path / "toy", per_class=2, size=32)


def tiny(**kw):
    return DescribeConfig(matcher="tiny-clip", captioner=None, attribute_vocab="", batch_size=2, **kw)


def test_a_truncated_part_is_set_aside_and_its_images_described_again(tmp_home, toy, caplog):
    frame = load_folder(toy).frame
    first = describe(frame, tiny(), progress=False)
    store = DescriptionStore(tiny().store_dir(), tiny().cache_key())
    part = store.parts()[0]
    part.write_bytes(part.read_bytes()[:30])
    with caplog.at_level(logging.WARNING):
        again = describe(frame, tiny(), progress=False)
    assert "damaged" in caplog.text and list(store.dir.glob("*.corrupt"))
    assert again.summary.described > 0 and [d.to_dict() for d in again] == [d.to_dict() for d in first]


def test_two_runs_claim_disjoint_work_and_a_dead_runs_claim_is_taken_over(tmp_path):
    store = DescriptionStore(tmp_path, "k")
    _, mine = Claims(store).next_chunk(list("abcd"), limit=3)
    _, theirs = Claims(DescriptionStore(tmp_path, "k")).next_chunk(list("abcd"), limit=3)
    assert mine.keys == ["a", "b", "c"] and theirs.keys == ["d"]
    assert Claims(store).next_chunk(list("abcd"), limit=3)[1] is None  # all held by live runs: wait
    (store.dir / "claims" / "claim-1-dead.json").write_text(json.dumps(["x"]))  # written by a killed run
    assert Claims(store).next_chunk(["x"], limit=3)[1].keys == ["x"]
    mine.release()
    assert Claims(store).next_chunk(list("abc"), limit=3)[1].keys == ["a", "b", "c"]


def test_two_describes_at_once_describe_each_image_once(tmp_home, toy):
    script = textwrap.dedent(f"""
        import json, sys
        from steervis.data import load_folder
        from steervis.vllavo.describe import DescribeConfig, describe
        cfg = DescribeConfig(matcher="tiny-clip", captioner=None, attribute_vocab="", batch_size=1)
        import steervis.vllavo.describe.run as run
        run.CLAIM_BATCHES = 2  # small claims, so the two runs interleave
        out = describe(load_folder({str(toy)!r}).frame, cfg, progress=False)
        print(json.dumps([out.summary.described, sum(d is not None for d in out)]))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in procs]
    assert [r[1] for r in results] == [12, 12]  # each run returns every description
    assert sum(r[0] for r in results) == 12  # ... and together they described each image once


def test_the_react_pool_key_names_its_head_weights(tmp_home, monkeypatch):
    from steervis import matchers

    folder = tmp_home / "models" / "react-pool"
    folder.mkdir(parents=True)
    (folder / "card.json").write_text("{}")
    (folder / "head.safetensors").write_bytes(b"weights-1")
    cfg = DescribeConfig(matcher="react-pool")
    before = cfg.cache_key()
    assert before != DescribeConfig().cache_key()
    (folder / "head.safetensors").write_bytes(b"weights-22")  # the head rebuilt: other descriptions
    assert cfg.cache_key() != before
    assert DescribeConfig().cache_key() == DescribeConfig().cache_key()  # plain matchers: name only, stable
    assert matchers.matcher_identity("conse") == "conse"
