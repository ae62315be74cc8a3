"""The real-model path of ``evaluate`` on a few minidomains images (embedded weights; marked slow)."""

from __future__ import annotations

import json

import pytest

from steervis.eval import EvaluateConfig, evaluate
from steervis.zoo.embedded import smollm2_ready

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not smollm2_ready(), reason="smollm2 not prepared (run `steervis setup`)")]

CLASSES = ["apple", "bicycle", "car", "cat", "dog", "guitar"]


def test_real_models_run_every_file_and_beat_chance_on_photos(minidomains_root, tmp_path):
    cfg = EvaluateConfig(
        data=str(minidomains_root), domains=["photo", "clipart"], classes=CLASSES, held_out=["photo"],
        max_per_class=3, runs=[{"method": "zeroshot"}, {"method": "linear-probe"}, {"method": "zeroshot-llm"},
                               # Two optimiser steps: proves the real LoRA path end to end, not its accuracy.
                               {"method": "describe-decide",
                                "options": {"train": {"max_steps": 2}, "also": ["generate"]}}],
        out=str(tmp_path / "runs"), name="real")
    result = evaluate(cfg, progress=False)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["classes"] == CLASSES
    assert set(metrics["accuracy"]) == {"zeroshot", "linear-probe", "zeroshot-llm", "describe-decide",
                                        "describe-decide (generate)"}
    # Real ConSE embeddings name ordinary photos far above the 1-in-6 chance level.
    assert result.table.loc["zeroshot", "photo"] > 0.5
    preds = result.predictions
    assert set(preds["pred"]) <= set(CLASSES)
    texts = preds.loc[preds["method"] == "describe-decide", "description"]
    assert texts.str.startswith("Tags:").all()  # the language methods read real descriptions
    assert (result.run_dir / "report.html").stat().st_size > 10_000
