"""DDP on two CPU processes follows the single-process run.

accelerate 1.x starts several `--cpu` processes only through MPI (`--mpirun_hostfile`); its torchrun path
(`--multi_gpu`) starts them anywhere, and the trainer joins a gloo group when there is no CUDA device.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

WORKER = Path(__file__).with_name("ddp_worker.py")


def run(cmd: list[str], out: Path) -> list[dict]:
    out.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([*cmd, str(WORKER), str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(p.read_text()) for p in sorted(out.glob("rank*.json"))]


@pytest.mark.slow
def test_two_process_ddp_shards_the_data_and_matches_the_single_process_loss_curve(tmp_path):
    single = run([sys.executable], tmp_path / "single")
    ddp = run([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"], tmp_path / "ddp")
    assert [r["world"] for r in ddp] == [2, 2] and [r["rank"] for r in ddp] == [0, 1]
    shards = [set(r["shard"]) for r in ddp]
    assert shards[0] and shards[1] and shards[0] != shards[1]  # different data on each process
    assert shards[0] | shards[1] == set(single[0]["shard"])  # together: all of it
    assert ddp[0]["losses"] == ddp[1]["losses"]  # every process logs the global batch's loss
    np.testing.assert_allclose(ddp[0]["losses"], single[0]["losses"], rtol=1e-4)
    assert abs(ddp[0]["lora_sum"] - single[0]["lora_sum"]) < 1e-3 * max(1.0, abs(single[0]["lora_sum"]))
