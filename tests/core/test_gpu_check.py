"""``scripts/gpu-check``: steervis imports on the GPU machine's path without the optional packages, and the
``--device cpu --tiny`` run calls every part's function and writes the JSON report after each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu-check"
ABSENT = ("faiss", "cairosvg", "imagehash", "gguf", "easy_vqa")
# A finder that refuses the packages the GPU machine lacks, then runs the given code.
RUN = "import runpy; runpy.run_path(sys.argv.pop(1), run_name='__main__')"  # the script, as from a shell
BLOCK = f"""
import sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {ABSENT!r}:
            raise ImportError(f"{{name}} is not installed here")
sys.meta_path.insert(0, Absent())
"""


def run_python(code: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", BLOCK + code, *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=timeout)


def test_the_gpu_path_imports_without_the_optional_packages():
    code = """
from importlib.machinery import SourceFileLoader
check = SourceFileLoader("gpu_check", sys.argv[1]).load_module()
import steervis.lm.scoring, steervis.lm.generate, steervis.lm.train, steervis.lm.adapters
import steervis.vllavo.describe, steervis.matchers.clip, steervis.zoo, steervis.llava.model
import steervis.ground.glip, steervis.ground.train
try:
    import faiss
except ImportError:
    print("blocked", sorted(check.PARTS))
"""
    done = run_python(code, str(SCRIPT))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["blocked", "['describe',", "'generate',", "'ground',", "'lora',",
                                   "'scoring',", "'tests']"]


@pytest.mark.slow  # about a minute: every part on tiny models
def test_the_tiny_run_reports_every_part(tmp_path):
    out = tmp_path / "check.json"
    done = run_python(RUN, str(SCRIPT), "--device", "cpu", "--tiny", "--out", str(out), timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["tiny"] and report["device"] == "cpu"
    assert {name: part["ok"] for name, part in report["parts"].items()} == dict.fromkeys(
        ["tests", "scoring", "generate", "lora", "describe", "ground"], True)
    assert report["parts"]["scoring"]["max_abs_logprob_diff_vs_full"] < 2e-2  # the tree equals the forward


def test_a_rerun_of_some_parts_keeps_the_others(tmp_path):
    out = tmp_path / "check.json"
    out.write_text(json.dumps({"parts": {"lora": {"ok": True, "kept": 1}}}))
    done = run_python(RUN, str(SCRIPT), "--device", "cpu", "--tiny", "--parts", "generate,ground", "--out",
                      str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    parts = json.loads(out.read_text())["parts"]
    assert parts["lora"] == {"ok": True, "kept": 1} and parts["generate"]["ok"]
    assert parts["generate"]["batch_1"]["steervis_tokens_per_s"] > 0
    ground = parts["ground"]
    assert ground["ok"], ground
    assert ground["step_s"] > 0 and ground["ground_images_per_s"] > 0 and ground["scenes"] == 8
    assert ground["loss_last"] < ground["loss_first"]  # the head's two steps trained it
