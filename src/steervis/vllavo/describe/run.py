"""``describe(frame)``: every image of a frame described once, through the store, fast.

Only images missing from the store are computed. Decoding and preprocessing run in worker threads ahead of
the model; each finished batch is appended to the store at once, so a killed run resumes where it stopped.
Two runs on one store split the work through claims (:mod:`steervis.store.claims`): no image twice.
Rows whose image cannot be decoded come back as ``None`` (the store records the reason, ``summary``
counts them).

>>> import tempfile, os
>>> from steervis.data import load_folder, make_toy_dataset
>>> from steervis.vllavo.describe import DescribeConfig, describe
>>> os.environ["STEERVIS_HOME"] = tempfile.mkdtemp()  # doctest: +SKIP
>>> frame = load_folder(make_toy_dataset(tempfile.mkdtemp())).frame  # doctest: +SKIP
>>> out = describe(frame, DescribeConfig(matcher="tiny-clip"), progress=False)  # doctest: +SKIP
>>> out.summary.described, out.summary.cached  # doctest: +SKIP
(24, 0)
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from steervis.device import names_batch_size
from steervis.errors import SteervisError
from steervis.store.claims import Claims
from steervis.vllavo.describe.config import DescribeConfig
from steervis.vllavo.describe.description import Description
from steervis.vllavo.describe.records import prepare_image, record_of
from steervis.vllavo.describe.store import DescriptionStore

log = logging.getLogger(__name__)
# Images decoded ahead of the model, in batches: enough to hide a slow file, small enough to bound memory.
PREFETCH_BATCHES = 3
# Batches per claim: large enough that the prefetch pipeline rarely restarts, small enough that two runs
# share.
CLAIM_BATCHES = 16
# Seconds between looks while another run describes the last images this one needs.
WAIT_S = 0.5


@dataclass
class DescribeSummary:
    """Counts and speed of one :func:`describe` call."""

    total: int = 0
    described: int = 0
    cached: int = 0
    failed: int = 0
    seconds: float = 0.0
    compute_seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def images_per_s(self) -> float:
        return self.described / self.compute_seconds if self.compute_seconds > 0 else 0.0

    def line(self) -> str:
        return (f"{self.total} images: {self.described} described, {self.cached} cached, "
                f"{self.failed} failed in {self.seconds:.1f} s ({self.images_per_s:.1f} images/s described)")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "images_per_s": self.images_per_s}


class Descriptions(list):
    """A ``list[Description | None]`` aligned with the frame's rows, carrying the run's ``summary``."""

    summary: DescribeSummary


def local_records(todo: list[tuple[str, str]], config: DescribeConfig, describer: Any,
                  images: Any = None) -> Iterator[list[dict]]:
    """Describe ``(sha256, path)`` pairs in batches; yields the store records of each batch."""
    window = config.batch_size * PREFETCH_BATCHES
    with ThreadPoolExecutor(max_workers=config.num_workers, thread_name_prefix="decode") as pool:
        pending: deque = deque()
        items = iter(todo)

        def refill() -> None:
            while len(pending) < window and (nxt := next(items, None)) is not None:
                pending.append((nxt[0], pool.submit(prepare_image, describer, nxt[1], nxt[0], images)))

        refill()
        while pending:
            batch, records = [], []
            while pending and len(batch) < config.batch_size:
                sha, fut = pending.popleft()
                prepared, error = fut.result()
                refill()
                if error is None:
                    batch.append((sha, prepared))
                else:
                    records.append(record_of(sha, None, error))
            if batch:
                descs = describer.describe_prepared([p for _, p in batch])
                records += [record_of(sha, d) for (sha, _), d in zip(batch, descs, strict=True)]
            yield records


def _records(config: DescribeConfig, todo: list[tuple[str, str]], describer: Any,
             images: Any) -> Iterator[list[dict]]:
    if config.engine == "ray":
        from steervis.vllavo.describe.ray_engine import ray_records

        return ray_records(todo, config)
    return local_records(todo, config, describer, images)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="describing", unit="img", disable=not enabled, smoothing=0.1)


@names_batch_size("the describer's batch_size")
def describe(
    frame: pd.DataFrame, config: DescribeConfig | None = None, progress: bool = True, describer: Any = None,
    images: Any = None,
) -> Descriptions:
    """Describe every row of ``frame`` (needs ``path`` and ``sha256``), reusing the store.

    Args:
        frame: One row per image; rows sharing a sha256 are described once.
        config: Describer config (default: the offline ConSE describer).
        progress: Show a tqdm bar with images/s.
        describer: A prepared :class:`~steervis.vllavo.describe.describer.Describer` to reuse (loaded on
            demand otherwise, and only if something is missing from the store).
        images: The run's :class:`~steervis.data.decoded.DecodedImages`: images decoded earlier in the run
            are not decoded again (local engine).

    Returns:
        A list aligned with ``frame``'s rows: a :class:`Description`, or ``None`` where the image could not
        be decoded (reason in ``.summary.failures``). ``.summary`` holds counts and speed.

    Raises:
        SteervisError: ``frame`` lacks ``path`` or ``sha256``.
    """
    config = config or DescribeConfig()
    missing = {"path", "sha256"} - set(frame.columns)
    if missing:
        raise SteervisError("describe needs a frame with columns path and sha256; "
                            f"missing {sorted(missing)}.")
    start = time.perf_counter()
    store = DescriptionStore(config.store_dir(), config.cache_key(), config.identity_record())
    shas = frame["sha256"].tolist()
    paths = frame["path"].astype(str).tolist()
    wanted = {s for s in shas if isinstance(s, str) and s}
    found = store.read(wanted)
    todo: dict[str, str] = {}
    for sha, path in zip(shas, paths, strict=True):
        if sha in wanted and sha not in found and sha not in todo:
            todo[sha] = path
    before = {s for s, rec in found.items() if rec["status"] == "ok"}
    summary = DescribeSummary(total=len(frame), cached=sum(1 for s in shas if s in before))
    if todo:
        _describe_missing(todo, found, store, config, describer, images, summary, progress)
    out = _aligned(shas, paths, found, summary)
    summary.seconds = time.perf_counter() - start
    log.info("describe: %s", summary.line())
    return out


def _describe_missing(todo: dict[str, str], found: dict[str, dict], store: DescriptionStore,
                      config: DescribeConfig, describer: Any, images: Any, summary: DescribeSummary,
                      progress: bool) -> None:
    """Describe the images in ``todo`` (sha256 → path) claim by claim, each batch appended to the store at
    once; records land in ``found``, counts in ``summary``. Images another run claimed are waited for."""
    compute_start = time.perf_counter()
    claims = Claims(store)
    # Ray describes everything it claims in one dataset; locally, a claim is a few batches of work.
    limit = len(todo) if config.engine == "ray" else config.batch_size * CLAIM_BATCHES
    with _progress(len(todo), progress) as bar:
        while todo:
            done, claim = claims.next_chunk(list(todo), limit)
            for sha, record in store.read(done).items():  # finished by another run on this store meanwhile
                found[sha] = record
                bar.update(todo.pop(sha, None) is not None)
            if claim is None:
                if todo:
                    time.sleep(WAIT_S)  # the rest is held by another live run: wait for its records
                continue
            with claim:
                if describer is None and config.engine != "ray":
                    from steervis.vllavo.describe.describer import get_describer

                    describer = get_describer(config)
                    compute_start = time.perf_counter()  # model loading is setup, not throughput
                for records in _records(config, [(s, todo[s]) for s in claim.keys], describer, images):
                    store.append(records)
                    found.update({r["sha256"]: r for r in records})
                    summary.described += sum(r["status"] == "ok" for r in records)
                    for r in records:
                        todo.pop(r["sha256"], None)
                    bar.update(len(records))
    summary.compute_seconds = time.perf_counter() - compute_start
    store.compact()


def _aligned(shas: list[Any], paths: list[str], found: dict[str, dict],
             summary: DescribeSummary) -> Descriptions:
    """One :class:`Description` or ``None`` per frame row (one object per sha256), each ``None`` with its
    reason in ``summary.failures``."""
    out = Descriptions()
    cache: dict[str, Description | None] = {}
    for sha, path in zip(shas, paths, strict=True):
        rec = found.get(sha)
        if rec is None:
            out.append(None)
            summary.failures.append((path, "no sha256 (file was not readable when indexed)"))
        elif rec["status"] != "ok":
            out.append(None)
            summary.failures.append((path, rec["error"]))
        else:
            if sha not in cache:
                cache[sha] = Description.from_json(rec["description"])
            out.append(cache[sha])
    summary.failed = len(summary.failures)
    out.summary = summary
    return out
