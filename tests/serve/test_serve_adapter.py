"""Classify with a describe-decide adapter from `steervis fit` (tiny describer, tiny LM): the page's answer is
the one `steervis predict` gives for the same image, with the description the decider read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from steervis.data.synthetic import make_toy_dataset
from steervis.serve.app import create_app
from steervis.serve.config import ServeConfig


@pytest.fixture(scope="module")
def adapter(home, tmp_path_factory):
    from steervis.methods.describe_decide import decide_config
    from steervis.methods.finetune import fit

    toy = make_toy_dataset(tmp_path_factory.mktemp("toy"))
    out = tmp_path_factory.mktemp("fit") / "adapter"
    fit(toy, out, decide_config("decide-tiny"), domains=["photo"], describe={"matcher": "tiny-clip",
        "captioner": "tiny-blip", "samples": 2, "max_caption_tokens": 8}, progress=False)
    return out, next((toy / "sketch" / "square").iterdir())


def test_classify_with_an_adapter_matches_predict(adapter, tmp_path):
    from steervis.methods.finetune import predict

    folder, image = adapter
    app = create_app(ServeConfig(adapter=str(folder), runs=str(tmp_path)),
                     loaders={"chat": (lambda: None, "off"), "describe": (lambda: None, "off")})
    with TestClient(app) as client:
        key = client.post("/api/images", content=image.read_bytes()).json()["id"]
        answer = client.post("/api/classify", json={"image": key, "classes": ["ignored", "names"]}).json()
    frame, _ = predict(folder, image)
    row = frame.iloc[0]
    assert answer["method"] == "describe-decide (adapter)" and answer["label"] == row["label"]
    assert {r["name"]: r["p"] for r in answer["classes"]} == pytest.approx(
        {c: float(row[f"p:{c}"]) for c in ("circle", "square", "triangle")}, abs=1e-5)
    assert answer["description"] == row["description"] and answer["description"].startswith("Tags:")
