"""The page served by uvicorn on loopback, spoken to over real HTTP: stop ends an answer, and so does a page
that closes its connection mid-answer."""

from __future__ import annotations

import time

from serve_stubs import StubChat, stub_loaders

from steervis.serve.app import create_app
from steervis.serve.config import ServeConfig
from steervis.serve.load import call, events, request, serving

LONG = ["word "] * 400  # 400 pieces, 20 ms each: 8 s unless stopped


def test_stop_ends_the_answer_and_the_done_event_says_so(runs_root):
    chat = StubChat(LONG, delay=0.02)
    with serving(create_app(ServeConfig(runs=str(runs_root)), loaders=stub_loaders(chat))) as base:
        response = request(base, "POST", "/api/chat", {"message": "talk", "max_tokens": 400})
        seen, stream_id, ended = 0, None, None
        for kind, data in events(response):
            if kind == "start":
                stream_id = data["id"]
            elif kind == "token":
                seen += 1
                if seen == 3:
                    assert call(base, "POST", f"/api/chat/{stream_id}/stop")[0] == 200
            elif kind == "done":
                ended = data
                break
        response.close()
    assert ended["stopped"] and 3 <= ended["tokens"] < 20 and seen == ended["tokens"]


def test_a_closed_page_stops_the_model(runs_root):
    chat = StubChat(LONG, delay=0.02)
    with serving(create_app(ServeConfig(runs=str(runs_root)), loaders=stub_loaders(chat))) as base:
        response = request(base, "POST", "/api/chat", {"message": "talk", "max_tokens": 400})
        for kind, _ in events(response):
            if kind == "token":
                break
        response.close()  # the page went away
        deadline = time.monotonic() + 5
        while not chat.streams[0].stopped.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert chat.streams[0].stopped.is_set() and chat.streams[0].tokens < 100
        status, answer = call(base, "GET", "/api/health")  # and the server serves on
        assert status == 200 and answer["models"]["chat"]["queued"] == 0
