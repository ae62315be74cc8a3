"""``steervis serve``: one page to chat about an image, classify it, describe it, and open run reports.

FastAPI serves a static page (``static/``) and a small JSON API; chat answers stream as server-sent events
(:mod:`steervis.serve.chat`). Each model is loaded once per process and used by one thread
(:class:`~steervis.serve.worker.ModelWorker`). Every error a request can meet is a status and one sentence
(``{"error": ...}``), never a traceback.

>>> from fastapi.testclient import TestClient
>>> from steervis.serve.app import create_app
>>> client = TestClient(create_app(ServeConfig(preload=False)))  # doctest: +SKIP
>>> client.get("/api/health").json()["status"]  # doctest: +SKIP
'ok'
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from steervis.errors import SteervisError
from steervis.serve import engines
from steervis.serve.config import ServeConfig
from steervis.serve.problems import RequestError, error_sentence
from steervis.serve.reports import finished_runs, inside, run_report
from steervis.serve.uploads import Uploads
from steervis.serve.worker import Batch, ModelWorker

# The page's own policy: its scripts and styles only, no inline script, reports only in frames of this origin.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
               "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'")
STATIC = {"app.js": "text/javascript", "style.css": "text/css"}
MAX_CLASSES = 200  # a label set the page can show; zero-shot over more is a batch job, not a page


@dataclass
class Server:
    """What the routes share: settings, model workers, uploads and the answers being written."""

    config: ServeConfig
    workers: dict[str, ModelWorker]
    uploads: Uploads
    streams: dict[str, Any] = field(default_factory=dict)


class ImageRequest(BaseModel):
    image: str


class ClassifyRequest(ImageRequest):
    classes: list[str] = Field(default_factory=list, max_length=MAX_CLASSES)


def default_loaders(config: ServeConfig) -> dict[str, tuple[Callable[[], Any], str]]:
    """name → (builds the model, its name on the page)."""
    method = f"describe-decide {config.adapter}" if config.adapter else config.method
    return {"chat": (lambda: engines.ChatModel(config.vlm, config.device, config.dtype),
                     config.vlm or "the latest LLaVA trained here"),
            "classify": (lambda: engines.load_classifier(config), method),
            "describe": (lambda: engines.load_describer(config), config.describe.matcher)}


def create_app(config: ServeConfig | None = None,
               loaders: dict[str, tuple[Callable[[], Any], str]] | None = None) -> FastAPI:
    """The web app; ``loaders`` replace the models' builders by name (tests hand in stubs)."""
    config = config or ServeConfig()
    built = {**default_loaders(config), **(loaders or {})}
    lock = threading.Lock()
    workers = {name: ModelWorker(name, load, label, lock) for name, (load, label) in built.items()}
    server = Server(config, workers,
                    Uploads(config.max_upload_mb << 20, config.max_pixels, config.uploads_kept))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if config.preload:
            for worker in server.workers.values():
                worker.start()
        yield
        for worker in server.workers.values():
            worker.close()
        server.uploads.clean()

    app = FastAPI(title="steervis", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.server = server
    add_error_handlers(app)
    add_page_routes(app, server)
    add_model_routes(app, server)
    from steervis.serve.chat import add_chat_routes

    add_chat_routes(app, server)
    return app


def add_error_handlers(app: FastAPI) -> None:
    async def as_sentence(request: Request, err: Exception) -> JSONResponse:
        status, text = error_sentence(err)
        return JSONResponse({"error": text}, status_code=status)

    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "the request"
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid value')}."}, status_code=422)

    app.add_exception_handler(Exception, as_sentence)
    app.add_exception_handler(SteervisError, as_sentence)
    app.add_exception_handler(RequestValidationError, invalid)


def add_page_routes(app: FastAPI, server: Server) -> None:
    page = resources.files("steervis.serve") / "static"

    @app.get("/")
    async def index() -> Response:
        return Response((page / "index.html").read_text(), media_type="text/html",
                        headers={"Content-Security-Policy": PAGE_POLICY})

    @app.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in STATIC:
            raise RequestError(f"No file {name} on this page.", 404)
        return Response((page / name).read_text(), media_type=STATIC[name])

    @app.get("/api/health")
    async def health() -> dict[str, Any]:
        config = server.config
        return {"status": "ok", "models": {n: w.status() for n, w in server.workers.items()},
                "limits": {"max_new_tokens": config.max_new_tokens,
                           "max_message_chars": config.max_message_chars,
                           "max_upload_mb": config.max_upload_mb}, "classes": config.classes}

    @app.get("/api/runs")
    async def runs() -> dict[str, Any]:
        return {"root": str(Path(server.config.runs).expanduser().resolve()),
                "runs": finished_runs(server.config.runs)}

    @app.get("/api/report")
    async def report(run: str) -> dict[str, str]:
        return {"run": run, "url": run_report(server.config.runs, run)}

    @app.get("/runs/{path:path}")
    async def run_file(path: str) -> FileResponse:
        found = inside(server.config.runs, path)
        if not found.is_file():
            raise RequestError(f"{path} is a folder: open its {found.name}/report.html.", 404)
        # a report is shown sandboxed even when opened on its own: no scripts, no same-origin rights
        return FileResponse(found, headers={"Content-Security-Policy": "sandbox"})


def add_model_routes(app: FastAPI, server: Server) -> None:
    uploads = server.uploads

    @app.post("/api/images")
    async def upload(request: Request) -> dict[str, Any]:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > uploads.max_bytes:
            raise uploads.too_large()  # refused before a byte of it is read
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > uploads.max_bytes:
                raise uploads.too_large()
        name = unquote(request.headers.get("x-filename", ""))[:200]
        return await asyncio.to_thread(uploads.add, bytes(data), name)

    @app.post("/api/classify")
    async def classify(request: ClassifyRequest) -> dict[str, Any]:
        _, path = uploads.get(request.image)
        classes = list(dict.fromkeys(c.strip() for c in request.classes if c.strip()))
        if any(len(c) > 100 for c in classes):
            raise RequestError("A class name is longer than 100 characters.", 413)
        batch = Batch(("classify", *classes), path, lambda model, paths: model.classify_many(paths, classes))
        return await asyncio.wrap_future(server.workers["classify"].submit(batch))

    @app.post("/api/describe")
    async def describe(request: ImageRequest) -> dict[str, Any]:
        image, _ = uploads.get(request.image)
        batch = Batch("describe", image, engines.describe_many)
        return await asyncio.wrap_future(server.workers["describe"].submit(batch))


def run_server(config: ServeConfig) -> None:
    """Serve until interrupted; a taken port is one sentence, before any model loads."""
    import socket

    import uvicorn

    with socket.socket() as probe:
        try:
            probe.bind((config.host, config.port))
        except OSError as err:
            raise SteervisError(f"Cannot listen on {config.host}:{config.port} ({err.strerror}): pick "
                                "another --port, or stop what holds it.") from None
        port = probe.getsockname()[1]  # --port 0: the free port the system picked
    print(f"steervis serve: http://{config.host}:{port} (Ctrl-C stops)", flush=True)
    uvicorn.run(create_app(config), host=config.host, port=port, log_level="warning")
