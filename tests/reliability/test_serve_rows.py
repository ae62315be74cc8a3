"""The web page under bad input and load: `steervis serve` in a process of its own (tiny models), spoken to
over HTTP on loopback. A bad input is a 4xx and one sentence (what the page shows), and the server serves on;
16 clients at once lose nothing and get nobody else's answer."""

from __future__ import annotations

import io
import json
import socket
import struct
import subprocess
import time
import zlib

import pytest
from PIL import Image
from workspace import Outcome, Workspace, row

from steervis.serve.load import call, chat, load_test, request

pytestmark = pytest.mark.slow
QUESTIONS = ["What is in the picture?", "What colour is it?", "Describe the image."]


def png(colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, "PNG")
    return buffer.getvalue()


def huge_png(side: int = 30000) -> bytes:
    """A PNG header claiming ``side`` × ``side`` pixels, with a few bytes of pixel data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def page(ws):
    """`steervis serve` on a free loopback port with tiny models; its base URL once every model is ready."""
    runs = ws.root / "serve-runs"
    (runs / "finished").mkdir(parents=True, exist_ok=True)
    (runs / "finished" / "report.html").write_text("<html><body>done</body></html>")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["serve", "--port", port, "--runs", runs, "--vlm", "tiny-vlm", "--classes", "red,green,blue",
            "--set", "options.matcher=tiny-clip", "--set", "describe.matcher=tiny-clip"]
    server = subprocess.Popen(Workspace.argv(args), env=ws.env, cwd=ws.root, text=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if server.poll() is not None:
                pytest.fail(f"steervis serve exited: {server.stderr.read()}")
            assert time.monotonic() < deadline, "steervis serve's models were not ready within 300 s"
            try:
                models = call(base, "GET", "/api/health")[1]["models"]
            except OSError:
                time.sleep(0.5)
                continue
            failed = [m["message"] for m in models.values() if m["state"] == "failed"]
            assert not failed, failed[0]  # a model that cannot load never becomes ready
            if all(m["state"] == "ready" for m in models.values()):
                break
            time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=60)


def refused(base: str, status: int, answer: dict) -> Outcome:
    """A bad input's verdict: a 4xx, one sentence, no traceback; and the server still answers."""
    error = answer.get("error", "")
    ok = 400 <= status < 500 and bool(error) and "\n" not in error and "Traceback" not in error
    outcome = Outcome(error, status, "one sentence, no traceback" if ok else "NOT A SENTENCE", ok)
    return outcome.also(call(base, "GET", "/api/health")[0] == 200, ", the server serves on",
                        ", BUT THE SERVER STOPPED")


def upload(base: str, data: bytes) -> tuple[int, dict]:
    return call(base, "POST", "/api/images", data)


@row("serve-upload-empty", "`steervis serve`: a zero-byte upload")
def test_an_empty_upload(page, record):
    record(refused(page, *upload(page, b"")))


@row("serve-upload-not-an-image", "`steervis serve`: a text file uploaded as an image")
def test_a_non_image_upload(page, record):
    record(refused(page, *upload(page, b"these are my notes, not a picture")))


@row("serve-upload-pixels", "`steervis serve`: a 30000×30000 PNG (a decompression bomb)")
def test_a_huge_image(page, record):
    record(refused(page, *upload(page, huge_png())))


@row("serve-upload-size", "`steervis serve`: a 50 MB upload")
def test_a_large_upload(page, record):
    record(refused(page, *upload(page, b"\0" * (50 << 20))))


@row("serve-chat-long", "`steervis serve`: a 5,000-character chat message")
def test_an_over_long_message(page, record):
    response = request(page, "POST", "/api/chat", {"message": "why " * 1250})
    record(refused(page, response.status, json.loads(response.read())))


@row("serve-run-outside", "`steervis serve`: the report of run folder `..` (outside the runs root)")
def test_a_run_folder_outside_the_root(page, record):
    record(refused(page, *call(page, "GET", "/api/report?run=..")))


@row("serve-load", "16 clients × 20 requests at once to `steervis serve` (classify and chat, tiny models)",
     group="concurrency")
def test_sixteen_clients_at_once(page, record):
    image = upload(page, png())[1]["id"]
    expected = {q: chat(page, {"message": q, "image": image, "max_tokens": 8})["text"] for q in QUESTIONS}
    result = load_test(page, image, expected, clients=16, requests=20, max_tokens=8)
    seen = (f"{result['answered']} of {result['requests']} answered; p50 {result['p50_s']:.2f} s, "
            f"p99 {result['p99_s']:.2f} s")
    ok = result["requests"] == result["answered"] == 320 and not result["lost"] and not result["wrong"]
    said = f"{result['lost']} lost, {result['wrong']} answered with another request's answer"
    record(Outcome(seen, 200 if ok else 500, said, ok))
