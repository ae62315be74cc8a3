"""Classify with REACT, a method that needs no fit from the user: customized for the configured classes on a
toy knowledge pool (tiny CLIP) when the server starts; a request for other classes is one sentence."""

from __future__ import annotations

from fastapi.testclient import TestClient
from serve_stubs import png

from steervis.serve.app import create_app
from steervis.serve.config import ServeConfig


def test_react_ranks_its_classes_and_refuses_others(tmp_home, tmp_path):
    from steervis.data.pool import pool_root
    from steervis.data.synthetic import make_toy_pool

    make_toy_pool(pool_root())
    config = ServeConfig(method="react", options={"base": "tiny-clip", "k": 4, "epochs": 1},
                         classes=["circle", "star"], runs=str(tmp_path))
    app = create_app(config, loaders={"chat": (lambda: None, "off"), "describe": (lambda: None, "off")})
    with TestClient(app) as client:
        image = client.post("/api/images", content=png()).json()["id"]
        answer = client.post("/api/classify", json={"image": image}).json()
        assert answer["method"] == "react" and {r["name"] for r in answer["classes"]} == {"circle", "star"}
        assert abs(sum(r["p"] for r in answer["classes"]) - 1) < 1e-4
        other = client.post("/api/classify", json={"image": image, "classes": ["cat", "dog"]})
        assert other.status_code == 400 and "restart it with --classes" in other.json()["error"]
