"""One model, one thread: it loads the model once, then runs the jobs it is handed in order.

Every model of the page (the chat VLM, the classifier, the describer) lives in a :class:`ModelWorker`. Only
its thread ever touches the model, so concurrent requests never share it mid-computation, a request that goes
away (a closed page) cannot leave a lock held, and the queue is the fairness: first come, first served.

>>> worker = ModelWorker("echo", lambda: str.upper)
>>> worker.submit(lambda model: model("hi")).result()
'HI'
>>> worker.status()["state"]
'ready'
>>> worker.close()
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from steervis.errors import SteervisError
from steervis.serve.problems import NotReady


class ModelWorker:
    """A model loaded by ``load`` on first use (or :meth:`start`), served by one thread.

    Args:
        name: What the page calls it (``chat``, ``classify``, ``describe``).
        load: Builds the model; a :class:`SteervisError` it raises becomes the worker's message.
        label: The model's own name, shown on the page.
        load_lock: Held while loading: workers sharing one load one at a time (imports of lazy modules such
            as transformers' are not safe from two threads at once, and two cores load no faster in parallel).
    """

    def __init__(self, name: str, load: Callable[[], Any], label: str = "",
                 load_lock: threading.Lock | None = None):
        self.name, self.label, self._load = name, label, load
        self._load_lock = load_lock or threading.Lock()
        self.state = "idle"  # idle → loading → ready | failed
        self.message = ""
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self) -> None:
        """Begin loading now (idempotent)."""
        with self._start_lock:
            if self._thread is None:
                self.state = "loading"
                self._thread = threading.Thread(target=self._run, name=f"serve-{self.name}", daemon=True)
                self._thread.start()

    def submit(self, job: Callable[[Any], Any]) -> Future:
        """Queue ``job(model)``; its future holds what it returns, or :class:`NotReady` / its error."""
        future: Future = Future()
        self._jobs.put((job, future))
        self.start()
        return future

    def status(self) -> dict[str, Any]:
        return {"state": self.state, "message": self.message, "model": self.label,
                "queued": self._jobs.qsize()}

    def close(self) -> None:
        """Finish the queued jobs, then end the thread."""
        self._jobs.put(None)

    def _run(self) -> None:
        model = None
        try:
            with self._load_lock:
                model = self._load()
            self.state = "ready"
        except SteervisError as err:
            self.state, self.message = "failed", str(err)
        except Exception as err:  # any other load failure: one sentence on the page, never a traceback
            self.state, self.message = "failed", f"The {self.name} model could not be loaded ({err})."
        while (item := self._jobs.get()) is not None:
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            if self.state == "failed":
                future.set_exception(NotReady(self.message))
                continue
            try:
                future.set_result(job(model))
            except BaseException as err:  # handed to the request that asked, on its own thread
                future.set_exception(err)
