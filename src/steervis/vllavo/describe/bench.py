"""``steervis bench describe``: end-to-end describe throughput vs the raw efficientnet-lite0 forward pass.

In one process, on the same images and batch size: (1) raw forward of efficientnet-lite0 on already
preprocessed tensors, (2) a cold describe with the embedded backends into a temporary store (nothing
cached; model loading and vocabulary embedding timed separately as setup), (3) the raw forward again (the
two raw runs bracket the cold run, so a noisy neighbour shows up as a spread), (4) a warm rerun that finds
everything in the store. Targets: cold ≥ 80 % of raw; warm ≥ 20× faster than cold.

>>> from steervis.vllavo.describe.bench import bench_describe
>>> bench_describe(limit=64)  # doctest: +SKIP
{'raw_images_per_s': 24.1, 'cold_images_per_s': 21.0, 'cold_vs_raw': 0.87, 'warm_speedup': 310.0, ...}
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import replace
from typing import Any

from steervis.errors import SteervisError


def _frame(data: str | None, limit: int | None):
    from steervis.data.folder import load_folder
    from steervis.data.minidomains import minidomains_root

    root = data or minidomains_root()
    if not os.path.isdir(root):
        raise SteervisError(f"No data at {root}: build minidomains (`steervis data build minidomains`) or "
                            "pass --data DIR.")
    frame = load_folder(root).frame
    if limit and limit < len(frame):
        frame = frame.sample(n=limit, random_state=0).sort_index()  # every domain represented
    return frame.reset_index(drop=True)


def raw_forward(classifier: Any, n: int, batch_size: int, pixels: Any) -> float:
    """Images/s of ``classifier.forward_all`` alone over ``n`` images in batches of ``batch_size``."""
    done, start = 0, time.perf_counter()
    while done < n:
        k = min(batch_size, n - done)
        classifier.forward_all(pixels[:k])
        done += k
    return n / (time.perf_counter() - start)


def bench_describe(data: str | None = None, limit: int | None = None, batch_size: int = 32,
                   num_workers: int = 2, matcher: str = "conse", progress: bool = False) -> dict[str, Any]:
    """Measure describe throughput against the raw classifier forward pass.

    Args:
        data: Dataset folder (default: minidomains in ``$STEERVIS_HOME``).
        limit: Use at most this many images (a fixed random subset).
        batch_size: Batch size of both the raw forward and describe.
        num_workers: Decoding threads of describe.
        matcher: Matcher to bench (``conse`` is the embedded default whose cost is the classifier's).
        progress: Show describe's progress bar.

    Returns:
        Images, batch size, throughputs (images/s), ratios, setup and warm timings, threads.
    """
    import torch

    from steervis.vllavo.describe.config import DescribeConfig
    from steervis.vllavo.describe.describer import Describer
    from steervis.vllavo.describe.run import describe

    load = os.getloadavg()[0]  # before this bench adds its own
    frame = _frame(data, limit)
    n = len(frame)
    with tempfile.TemporaryDirectory(prefix="steervis-bench-") as store:
        cfg = DescribeConfig(matcher=matcher, batch_size=batch_size, num_workers=num_workers, store=store)
        start = time.perf_counter()
        describer = Describer(cfg)
        setup = time.perf_counter() - start
        from steervis import zoo

        classifier = zoo.load("efficientnet-lite0", kind="image-classifier")
        from steervis.data.images import open_image

        sample = [open_image(p) for p in frame["path"].iloc[:batch_size]]
        pixels = classifier.preprocess(sample * (batch_size // len(sample) + 1))[:batch_size]
        classifier.forward_all(pixels[:2])  # warm-up: first call allocates
        raw_before = raw_forward(classifier, n, batch_size, pixels)
        cold = describe(frame, cfg, progress=progress, describer=describer)
        raw_after = raw_forward(classifier, n, batch_size, pixels)
        warm = describe(frame, replace(cfg), progress=False)
    if warm.summary.cached != n - cold.summary.failed:
        raise SteervisError(f"warm rerun found {warm.summary.cached} of {n} images in the store")
    raw = (raw_before + raw_after) / 2
    cold_ips = cold.summary.images_per_s
    cold_wall = cold.summary.seconds
    return {
        "images": n, "batch_size": batch_size, "num_workers": num_workers, "matcher": matcher,
        "torch_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
        "load_average_1m": round(load, 2),  # other work on the cores: rates below are then lower bounds
        "raw_images_per_s": round(raw, 2), "raw_spread": [round(raw_before, 2), round(raw_after, 2)],
        "cold_images_per_s": round(cold_ips, 2), "cold_vs_raw": round(cold_ips / raw, 3),
        "cold_seconds": round(cold_wall, 2), "setup_seconds": round(setup, 2),
        "warm_seconds": round(warm.summary.seconds, 3),
        "warm_speedup": round(cold_wall / warm.summary.seconds, 1), "failed": cold.summary.failed,
        "targets": {"cold_vs_raw >= 0.8": cold_ips / raw >= 0.8, "warm_speedup >= 20": cold_wall /
                    warm.summary.seconds >= 20},
    }
