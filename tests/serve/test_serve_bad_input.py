"""Bad input to the page's API: each is a 4xx and one sentence, never a traceback, and nothing is kept."""

from __future__ import annotations

import struct
import zlib

import pytest
from fastapi.testclient import TestClient
from serve_stubs import png, stub_loaders

from steervis.serve.app import create_app
from steervis.serve.config import ServeConfig


def huge_png(side: int = 30000) -> bytes:
    """A valid PNG header for a ``side`` × ``side`` greyscale image, with a few bytes of pixels: what a
    decompression bomb looks like before it is decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


@pytest.fixture
def client(runs_root):
    def broken():
        class Broken:
            def classify_many(self, paths, classes):
                raise RuntimeError("internal detail that must not reach the page")

        return Broken()

    app = create_app(ServeConfig(runs=str(runs_root)), loaders={**stub_loaders(), "classify": (broken, "x")})
    with TestClient(app, raise_server_exceptions=False) as client:  # as a browser sees a server error
        yield client


def refused(reply, status: int, words: str) -> str:
    message = reply.json()["error"]
    assert reply.status_code == status, (reply.status_code, message)
    assert words in message and "Traceback" not in message and "\n" not in message, message
    return message


def test_bad_uploads_are_refused_in_one_sentence(client):
    refused(client.post("/api/images", content=b""), 400, "empty (zero bytes)")
    refused(client.post("/api/images", content=b"%PDF-1.4 not a picture", headers={"X-Filename": "cv.pdf"}),
            400, "cv.pdf is not a usable image: not an image")
    refused(client.post("/api/images", content=png()[:60]), 400, "truncated")
    refused(client.post("/api/images", content=huge_png()), 413, "too many pixels")
    refused(client.post("/api/images", content=b"\0" * (50 << 20)), 413, "larger than the 20 MB")
    chunks = (b"\0" * (1 << 20) for _ in range(50))  # no Content-Length: the limit holds while reading
    refused(client.post("/api/images", content=chunks), 413, "larger than the 20 MB")
    assert client.app.state.server.uploads.files() == []  # nothing refused was kept


def test_bad_chat_requests_are_refused_in_one_sentence(client):
    refused(client.post("/api/chat", json={"message": "x" * 4001}), 413, "at most 4000")
    refused(client.post("/api/chat", json={"message": "   "}), 400, "empty")
    refused(client.post("/api/chat", json={"message": "hi", "history": [["q" * 4000, "a" * 4000]] * 32}),
            413, "too long")
    refused(client.post("/api/chat", json={"message": "hi", "temperature": 9}), 422, "temperature")
    refused(client.post("/api/chat", json={"message": "hi", "max_tokens": 0}), 422, "max_tokens")
    refused(client.post("/api/chat", json={"message": "hi", "image": "0123456789abcdef"}), 404,
            "upload it again")
    refused(client.post("/api/chat", content=b"{not json", headers={"Content-Type": "application/json"}),
            422, "JSON")
    refused(client.post("/api/chat/nope/stop"), 404, "No answer")


def test_run_folders_outside_the_root_are_refused(client, runs_root):
    refused(client.get("/api/report", params={"run": "../elsewhere"}), 403, "outside the runs root")
    refused(client.get("/api/report", params={"run": str(runs_root.parent / "elsewhere")}), 403, "relative")
    refused(client.get("/api/report", params={"run": "dg-quick/../../elsewhere"}), 403, "outside")
    refused(client.get("/runs/%2e%2e/elsewhere/report.html"), 403, "outside")
    refused(client.get("/api/report", params={"run": "nothing-here"}), 404, "does not exist")
    refused(client.get("/api/report", params={"run": "dg-quick/report.html"}), 400, "not a run folder")


def test_a_failure_inside_a_model_is_a_sentence_not_its_traceback(client):
    image = client.post("/api/images", content=png()).json()["id"]
    message = refused(client.post("/api/classify", json={"image": image}), 500, "RuntimeError")
    assert "internal detail" not in message
    refused(client.post("/api/classify", json={"image": image, "classes": ["x" * 101, "y"]}), 413, "100")
