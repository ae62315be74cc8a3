"""One model, one thread: it loads the model once, then runs the jobs it is handed in order.

Every model of the page (the chat VLM, the classifier, the describer) lives in a :class:`ModelWorker`. Only
its thread ever touches the model, so concurrent requests never share it mid-computation, a request that goes
away (a closed page) cannot leave a lock held, and the queue is the fairness: first come, first served. A
:class:`Batch` job runs together with the same kind of jobs queued behind it, in one model call (classify and
describe take many images at once; a chat answer streams alone).

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
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from steervis.errors import SteervisError
from steervis.serve.problems import NotReady

MAX_BATCH = 16  # requests one model call answers at most: a page's worth of concurrent clients


@dataclass(frozen=True)
class Batch:
    """A job that may run with the queued jobs of an equal ``key``: ``run(model, items)`` returns one result
    per item, in order (a batch that fails is retried one item at a time, so one bad item fails alone)."""

    key: Any
    item: Any
    run: Callable[[Any, list[Any]], list[Any]]


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

    def submit(self, job: Callable[[Any], Any] | Batch) -> Future:
        """Queue ``job(model)`` (or a :class:`Batch`); its future holds what it returns, or :class:`NotReady`
        / its error."""
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
        waiting: deque = deque()  # taken from the queue while gathering a batch, not of it: served next
        while (item := waiting.popleft() if waiting else self._jobs.get()) is not None:
            group = [item]
            while isinstance(item[0], Batch) and len(group) < MAX_BATCH and not waiting:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is not None and isinstance(more[0], Batch) and more[0].key == item[0].key:
                    group.append(more)
                else:
                    waiting.append(more)
            group = [(job, future) for job, future in group if future.set_running_or_notify_cancel()]
            if group and self.state == "failed":
                for _, future in group:
                    future.set_exception(NotReady(self.message))
            elif group:
                self._serve(model, group)

    @staticmethod
    def _serve(model: Any, group: list[tuple[Any, Future]]) -> None:
        job = group[0][0]
        try:
            if not isinstance(job, Batch):
                results = [job(model)]
            else:
                results = job.run(model, [batched.item for batched, _ in group])
        except BaseException as err:  # handed to the request that asked, on its own thread
            if len(group) > 1:
                for one in group:
                    ModelWorker._serve(model, [one])
                return
            group[0][1].set_exception(err)
            return
        for (_, future), result in zip(group, results, strict=True):
            future.set_result(result)
