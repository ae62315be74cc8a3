"""16 clients × 20 requests at once on loopback, tiny models: every request answered, each with its own
answer (classify names its own classes; a greedy chat answer is known in advance), p50 / p99 latency."""

from __future__ import annotations

import json

import pytest
from serve_stubs import png, tiny_config

from steervis.serve.app import create_app
from steervis.serve.bench import QUESTIONS
from steervis.serve.load import call, chat, load_test, serving

pytestmark = pytest.mark.slow  # 320 requests through tiny models: about a minute on two cores


def test_sixteen_clients_lose_and_mix_up_nothing(home, runs_root, tmp_path):
    app = create_app(tiny_config(runs=str(runs_root), preload=False))
    with serving(app) as base:
        image = call(base, "POST", "/api/images", png())[1]["id"]
        expected = {q: chat(base, {"message": q, "image": image, "max_tokens": 8})["text"] for q in QUESTIONS}
        result = load_test(base, image, expected, clients=16, requests=20, max_tokens=8)
    (tmp_path / "load.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "problems"}))
    assert result["requests"] == 320 and result["answered"] == 320, result["problems"]
    assert result["lost"] == 0 and result["wrong"] == 0
    assert 0 < result["p50_s"] <= result["p99_s"]
