"""SIGKILL a describe midway, rerun it: every image ends up described exactly once, no part is corrupt."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from steervis.data import load_folder, make_toy_dataset
from steervis.vllavo.describe import DescribeConfig
from steervis.vllavo.describe.store import DescriptionStore

SCRIPT = textwrap.dedent("""
    import sys
    from steervis.data import load_folder
    from steervis.vllavo.describe import DescribeConfig, describe
    cfg = DescribeConfig(matcher="tiny-clip", tag_vocab=sys.argv[2], attribute_vocab="", batch_size=2,
                         num_workers=1)
    out = describe(load_folder(sys.argv[1]).frame, cfg, progress=False)
    print("SUMMARY", out.summary.described, out.summary.cached)
""")


@pytest.mark.slow  # two subprocesses that each import torch + transformers: ~15 s on 2 cores
def test_sigkill_then_resume_describes_each_image_exactly_once(tmp_home, tmp_path):
    root = make_toy_dataset(tmp_path / "toy", per_class=4, size=32)  # 24 images, 12 batches
    vocab = tmp_path / "tags.txt"
    vocab.write_text("circle\nsquare\ntriangle\n")
    frame = load_folder(root).frame
    cfg = DescribeConfig(matcher="tiny-clip", tag_vocab=str(vocab), attribute_vocab="")
    store = DescriptionStore(tmp_home / "descriptions", cfg.cache_key())
    env = {**os.environ, "STEERVIS_HOME": str(tmp_home)}
    cmd = [sys.executable, "-c", SCRIPT, str(root), str(vocab)]

    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(store.parts()) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(store.read())
    assert 0 < done_before < len(frame), "the kill should land midway; make the data set larger if not"

    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    described, cached = map(int, result.stdout.split("SUMMARY")[1].split())
    assert cached == done_before and described == len(frame) - done_before

    rows = pd.concat([pd.read_parquet(p) for p in store.parts()])
    assert sorted(rows["sha256"]) == sorted(frame["sha256"])  # every image exactly once, nothing extra
    assert (rows["status"] == "ok").all()
