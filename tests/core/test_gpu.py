"""On a CUDA card (skipped elsewhere): the pipelines scripts/gpu-check measures run there on tiny models in
bfloat16, with every tensor where its weights are (a host tensor beside card weights raises), and a hub-style
checkpoint loads onto the card by ``auto``. Nothing here needs the embedded model packages."""

from __future__ import annotations

from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest
import torch

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA card")]
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu-check"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    check = SourceFileLoader("gpu_check", str(SCRIPT)).load_module()
    return check, check.Run("cuda", tiny=True, tmp=tmp_path_factory.mktemp("gpu"))


@pytest.mark.parametrize("part", ["scoring", "generate", "lora", "describe", "ground"])
def test_each_measured_pipeline_runs_on_the_card_in_bfloat16(run, part, tmp_home):
    check, state = run
    result = check.PARTS[part](state)
    assert state.device.type == "cuda" and state.dtype is torch.bfloat16
    if part == "scoring":
        assert result["max_abs_logprob_diff_vs_full"] < 2e-2  # the prefix tree equals a full forward


def test_auto_loads_a_checkpoint_onto_the_card(run, tmp_path):
    from steervis import zoo
    from steervis.device import resolve

    check, state = run
    lm = check.build_lm(state, "saved")
    lm.model.save_pretrained(tmp_path / "lm")
    lm.tokenizer.save_pretrained(tmp_path / "lm")
    loaded = zoo.load(str(tmp_path / "lm"), kind="causal-lm")
    param = next(loaded.model.parameters())
    assert param.device.type == "cuda" and param.dtype is resolve("auto", "auto")[1]
    assert loaded.model.config._attn_implementation == "sdpa"
