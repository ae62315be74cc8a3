"""``steervis bench serve``: chat through the page's API (first-token latency, tokens/s) and the load test.

Runs the page on loopback with the models named, uploads one image, times ``chats`` greedy answers as a
browser receives them (server-sent events over HTTP), then sends ``clients`` × ``requests`` classify and
chat requests at once (:func:`steervis.serve.load.load_test`). The JSON's ``rows`` are what
``steervis study summary`` reads:

    steervis bench serve --out serve.json                                   # tiny models, a few minutes
    steervis bench serve --set vlm=stage2 --set matcher=conse --out serve.json
    steervis study summary --set source=serve.json --set table=serve --set command="steervis bench serve"
"""

from __future__ import annotations

import io
import statistics
from typing import Any

QUESTIONS = ["What is in the picture?", "What colour is it?", "Describe the image.", "Is it an animal?"]


def bench_serve(vlm: str = "tiny-vlm", matcher: str = "tiny-clip", chats: int = 5, max_new_tokens: int = 32,
                clients: int = 16, requests: int = 20, load_tokens: int = 8,
                min_tokens: int = 32) -> dict[str, Any]:
    """Chat latency and throughput through the page, then the load test, on loopback; each timed answer
    writes at least ``min_tokens`` tokens (a model trained on one-word answers would time one token)."""
    from PIL import Image

    from steervis.serve.app import create_app
    from steervis.serve.config import ServeConfig
    from steervis.serve.load import call, chat, load_test, serving

    config = ServeConfig(vlm=vlm, options={"matcher": matcher}, preload=False)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 200)).save(buffer, "PNG")
    with serving(create_app(config)) as base:
        image = call(base, "POST", "/api/images", buffer.getvalue())[1]["id"]
        call(base, "POST", "/api/classify", {"image": image, "classes": ["a", "b"]})  # load both models
        chat(base, {"message": QUESTIONS[0], "image": image, "max_tokens": 2})
        timed = [chat(base, {"message": QUESTIONS[k % len(QUESTIONS)], "image": image,
                             "max_tokens": max_new_tokens, "min_tokens": min_tokens}) for k in range(chats)]
        expected = {q: chat(base, {"message": q, "image": image, "max_tokens": load_tokens})["text"]
                    for q in QUESTIONS}
        load = load_test(base, image, expected, clients=clients, requests=requests, max_tokens=load_tokens)
    tokens = [t["done"]["tokens"] for t in timed]
    # decoding speed: the tokens after the first over the time after the first (the prompt pass excluded)
    rates = [(n - 1) / max(t["seconds"] - t["first_token_s"], 1e-9)
             for n, t in zip(tokens, timed, strict=True) if n > 1]
    return {"rows": {
        "chat": {"model": vlm, "answers": chats, "tokens_mean": round(statistics.mean(tokens), 1),
                 "first_token_s_median": round(statistics.median(t["first_token_s"] for t in timed), 4),
                 "tokens_per_s_median": round(statistics.median(rates), 2) if rates else 0.0},
        "load": {k: v for k, v in load.items() if k != "problems"}},
        "problems": load["problems"],
        "config": {"vlm": vlm, "matcher": matcher, "max_new_tokens": max_new_tokens, "min_tokens": min_tokens,
                   "clients": clients,
                   "requests": requests}}
