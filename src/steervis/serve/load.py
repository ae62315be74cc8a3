"""The page's server on loopback, and clients that measure it: chat latency, and many clients at once.

:func:`serving` runs the app under uvicorn on a free port of 127.0.0.1 in a thread; the clients speak plain
HTTP (``http.client``), as a browser does, reading chat answers event by event. :func:`load_test` sends
``clients`` × ``requests`` classify and chat requests at once, each one checkable (classify names its own
classes; a greedy chat answer is known in advance), and counts every request that failed or came back with
another request's answer.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

TIMEOUT = 300.0  # seconds a client waits for one answer: a queue of 16 clients on two cores, with margin


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served on a free loopback port for the ``with`` block; yields its base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="serve-loopback", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not (server.started and server.servers):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the loopback server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def request(base: str, method: str, path: str, body: bytes | dict | None = None,
            headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    """An open response (read it, then close its connection with ``response.close()``)."""
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=TIMEOUT)
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    kind = {"Content-Type": "application/json"} if isinstance(body, dict) else {}
    connection.request(method, path, body=data, headers={**kind, **(headers or {})})
    return connection.getresponse()


def call(base: str, method: str, path: str, body: bytes | dict | None = None) -> tuple[int, dict]:
    """``(status, JSON answer)`` of one request."""
    response = request(base, method, path, body)
    try:
        return response.status, json.loads(response.read() or b"{}")
    finally:
        response.close()


def events(response: http.client.HTTPResponse) -> Iterator[tuple[str, dict]]:
    """The server-sent events of a chat answer, as they arrive."""
    kind, data = "message", {}
    for raw in response:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
        elif not line:
            yield kind, data
            kind, data = "message", {}


def chat(base: str, body: dict) -> dict[str, Any]:
    """One chat answer through the page's API, timed at the client: ``{"status", "text", "pieces",
    "first_token_s", "seconds", "done"}`` (``error`` instead of ``done`` when it failed)."""
    start = time.perf_counter()
    response = request(base, "POST", "/api/chat", body)
    out: dict[str, Any] = {"status": response.status, "text": "", "pieces": 0, "first_token_s": None}
    try:
        if response.status != 200:
            out["error"] = json.loads(response.read() or b"{}").get("error", "")
            return out
        for kind, data in events(response):
            if kind == "token":
                out["first_token_s"] = out["first_token_s"] or time.perf_counter() - start
                out["text"] += data["text"]
                out["pieces"] += 1
            elif kind in ("done", "error"):
                out[kind] = data
                break
    finally:
        response.close()
    out["seconds"] = time.perf_counter() - start
    return out


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``; 0 for none."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(q / 100 * len(ordered)))) - 1] if ordered else 0.0


def load_test(base: str, image: str, expected: dict[str, str], clients: int = 16, requests: int = 20,
              max_tokens: int = 8) -> dict[str, Any]:
    """``clients`` threads send ``requests`` each, alternating classify (classes of its own) and chat (one of
    the ``expected`` message → greedy answer pairs). Returns counts, latencies and every wrong answer."""
    messages = sorted(expected)

    def one(client: int, k: int) -> tuple[float, str]:
        start = time.perf_counter()
        try:
            if k % 2 == 0:
                classes = [f"shape {client}-{k} {side}" for side in ("a", "b", "c")]
                status, answer = call(base, "POST", "/api/classify", {"image": image, "classes": classes})
                got = sorted(row["name"] for row in answer.get("classes", []))
                problem = "" if status == 200 and got == classes else f"classify {status}: {got or answer}"
            else:
                message = messages[(client + k) % len(messages)]
                answer = chat(base, {"message": message, "image": image, "max_tokens": max_tokens})
                ok = answer["status"] == 200 and "done" in answer and answer["text"] == expected[message]
                problem = "" if ok else f"chat {answer['status']}: {answer.get('error') or answer['text']!r}"
        except OSError as err:
            problem = f"lost: {err}"
        return time.perf_counter() - start, problem

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(lambda c=c: [one(c, k) for k in range(requests)]) for c in range(clients)]
        results = [item for future in futures for item in future.result()]
    wall = time.perf_counter() - start
    latencies = [seconds for seconds, _ in results]
    problems = [problem for _, problem in results if problem]
    return {"clients": clients, "requests": len(results), "answered": len(results) - len(problems),
            "lost": sum(p.startswith("lost") for p in problems),
            "wrong": sum(not p.startswith("lost") for p in problems),
            "p50_s": round(percentile(latencies, 50), 4), "p99_s": round(percentile(latencies, 99), 4),
            "requests_per_s": round(len(results) / wall, 2), "problems": problems[:10]}
