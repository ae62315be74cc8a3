"""The model worker: one thread per model, jobs in order, batches of the same kind in one call, a failed load
answered in one sentence for every job."""

from __future__ import annotations

import threading

import pytest

from steervis.errors import SteervisError
from steervis.serve.problems import NotReady
from steervis.serve.worker import Batch, ModelWorker


def test_queued_jobs_of_one_kind_run_as_one_batch_in_order():
    calls, gate = [], threading.Event()

    def run(model, items):
        calls.append(list(items))
        if "bad" in items and len(items) > 1:
            raise ValueError("a batch holding a bad item")  # retried one by one: only "bad" fails
        if items == ["bad"]:
            raise ValueError("bad item")
        return [f"{model}:{item}" for item in items]

    worker = ModelWorker("m", lambda: "M")
    first = worker.submit(lambda model: gate.wait(10) and "held")  # keeps the thread busy while jobs queue
    same = [worker.submit(Batch("k", f"a{i}", run)) for i in range(3)]
    other = worker.submit(Batch("other", "b", run))
    mixed = [worker.submit(Batch("k", item, run)) for item in ("c", "bad", "d")]
    gate.set()
    assert first.result(10) == "held"
    assert [f.result(10) for f in same] == ["M:a0", "M:a1", "M:a2"] and other.result(10) == "M:b"
    assert mixed[0].result(10) == "M:c" and mixed[2].result(10) == "M:d"
    with pytest.raises(ValueError, match="bad item"):
        mixed[1].result(10)
    assert calls[:2] == [["a0", "a1", "a2"], ["b"]] and calls[2] == ["c", "bad", "d"]
    assert calls[3:] == [["c"], ["bad"], ["d"]]
    worker.close()


def test_a_model_that_fails_to_load_answers_every_job_with_its_sentence():
    def load():
        raise SteervisError("No stage2 model is trained here: run `steervis vlm train --stage 2`.")

    worker = ModelWorker("chat", load)
    jobs = [worker.submit(lambda model: model), worker.submit(Batch("k", 1, lambda m, items: items))]
    for job in jobs:
        with pytest.raises(NotReady, match="steervis vlm train --stage 2"):
            job.result(10)
    assert worker.status()["state"] == "failed"
    broken = ModelWorker("describe", lambda: 1 / 0)
    with pytest.raises(NotReady, match=r"^The describe model could not be loaded \(division by zero\)\.$"):
        broken.submit(lambda model: model).result(10)
