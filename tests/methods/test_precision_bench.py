"""bench precision: every quick-preset stage runs in both precisions, and a run's rows are estimated."""

import json

import torch

from steervis.methods.precision_bench import (
    ROW_STAGES,
    estimate_run,
    lora_model,
    lora_step,
    stage_calls,
    time_stage,
)


def test_every_stage_runs_in_bfloat16_on_the_cpu():
    calls = stage_calls("bfloat16", "tiny-llama", images=1, prompts=1, seq=8)
    assert set(calls) == {stage for pair in ROW_STAGES.values() for stage in pair} | {"text-encoder"}
    grid = calls["image-tower"]()["grid"]
    assert grid.dtype == torch.bfloat16 and calls["text-encoder"]().shape[0] == 8
    sums, lengths = calls["lm-score"]()
    assert sums.shape == (1, 34) and (sums < 0).all()
    row = time_stage(calls["lm-generate"], calls["lm-generate"], repeats=1)
    assert row["float32_s"] > 0 and row["ratio"] > 0


def test_a_lora_step_moves_only_the_adapter():
    model = lora_model("tiny-llama", "bfloat16")
    step = lora_step(model, batch=2, seq=8)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    step()
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert changed and all("lora_" in n for n in changed)
    assert all(p.dtype == torch.bfloat16 for n, p in model.named_parameters() if "lora_" not in n)


def test_a_float32_run_is_estimated_at_each_rows_stage_ratio(tmp_path):
    runs = {"photo/zeroshot": {"fit_s": 0.0, "predict_s": 10.0},
            "sketch/zeroshot": {"fit_s": 0.0, "predict_s": 2.0},
            "photo/describe-decide": {"fit_s": 100.0, "predict_s": 10.0}}
    (tmp_path / "metrics.json").write_text(json.dumps({"runs": runs}))
    ratios = {"image-tower": 10.0, "lm-score": 3.0, "lora-step": 8.0, "lm-generate": 2.0}
    out = estimate_run(tmp_path, ratios, "bfloat16")
    assert out["zeroshot"] == {"float32_s": 12.0, "bfloat16_estimate_s": 120.0}
    assert out["describe-decide"] == {"float32_s": 110.0, "bfloat16_estimate_s": 830.0}
