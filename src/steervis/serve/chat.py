"""The chat routes: an answer streamed as server-sent events, and a stop button.

``POST /api/chat`` checks the request, builds the prompt on the chat model's thread (a prompt past the
model's context is a 413 before anything streams), then answers with ``text/event-stream``:

    event: start   data: {"id": ..., "forgot": false}      the stream's id (for /api/chat/ID/stop)
    event: token   data: {"text": "..."}                     each piece of the answer, as it is written
    event: done    data: {"tokens", "first_token_s", "seconds", "stopped"}
    event: error   data: {"error": "one sentence"}

The conversation lives in the page: each request carries the earlier turns. A page that closes the
connection, or ``POST /api/chat/ID/stop``, ends the generation after the current token.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from steervis.serve.problems import RequestError, error_sentence

HISTORY_TURNS = 32  # turns a request may carry; a conversation longer than the context forgets them anyway


class ChatRequest(BaseModel):
    message: str
    image: str | None = None
    history: list[tuple[str, str]] = Field(default_factory=list, max_length=HISTORY_TURNS)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(64, ge=1)
    min_tokens: int = Field(0, ge=0)  # tokens before the end-of-text token may end the answer (benchmarks)
    seed: int = 0


def sse(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


def check_chat(request: ChatRequest, max_chars: int) -> None:
    """Refuse an empty or over-long message, or a history that could not be a real conversation."""
    if not request.message.strip():
        raise RequestError("The message is empty: type a question.", 400)
    if len(request.message) > max_chars:
        raise RequestError(f"The message has {len(request.message)} characters; this page takes at most "
                          f"{max_chars}.", 413)
    if sum(len(q) + len(a) for q, a in request.history) > max_chars * HISTORY_TURNS:
        raise RequestError("The conversation is too long: start a new one.", 413)


def add_chat_routes(app: FastAPI, server: Any) -> None:
    """``POST /api/chat`` and ``POST /api/chat/{id}/stop`` on ``app``, serving ``server``'s chat worker."""
    @app.post("/api/chat")
    async def chat(request: ChatRequest) -> StreamingResponse:
        config, worker = server.config, server.workers["chat"]
        check_chat(request, config.max_message_chars)
        image = (request.image, server.uploads.get(request.image)[0]) if request.image else None
        history = [(q, a) for q, a in request.history]
        budget = min(request.max_tokens, config.max_new_tokens)

        def prepare(model: Any) -> tuple[Any, bool]:
            return model.answer(request.message, history, image, budget, request.temperature, request.seed,
                                request.min_tokens)

        stream, forgot = await asyncio.wrap_future(worker.submit(prepare))
        sid = uuid.uuid4().hex[:12]
        server.streams[sid] = stream
        events = asyncio.Queue()
        loop = asyncio.get_running_loop()
        future = worker.submit(lambda model: answer(stream, lambda piece: loop.call_soon_threadsafe(
            events.put_nowait, piece)))
        future.add_done_callback(lambda done: loop.call_soon_threadsafe(events.put_nowait, done))
        return StreamingResponse(relay(sid, forgot, events, stream, server), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.post("/api/chat/{sid}/stop")
    async def stop(sid: str) -> dict[str, Any]:
        stream = server.streams.get(sid)
        if stream is None:
            raise RequestError("No answer with that id is being written.", 404)
        stream.stop()
        return {"stopped": sid}


def answer(stream: Any, emit: Any) -> dict[str, Any]:
    """Run on the chat model's thread: every piece to ``emit``; the timing when the answer ends."""
    start = time.perf_counter()
    first = None
    for piece in stream:
        if first is None:
            first = time.perf_counter() - start
        emit(piece)
    seconds = time.perf_counter() - start
    return {"tokens": stream.tokens, "first_token_s": round(first or seconds, 4),
            "seconds": round(seconds, 4), "stopped": stream.stopped.is_set()}


async def relay(sid: str, forgot: bool, events: asyncio.Queue, stream: Any, server: Any):
    """The event stream: pieces as they come, then the ending; a closed connection stops the model."""
    try:
        yield sse("start", {"id": sid, "forgot": forgot})
        while True:
            item = await events.get()
            if isinstance(item, str):
                yield sse("token", {"text": item})
                continue
            error = item.exception()
            yield sse("error", {"error": error_sentence(error)[1]}) if error else sse("done", item.result())
            return
    finally:
        stream.stop()
        server.streams.pop(sid, None)
