"""Every ``steervis bench`` target, by name: throughput and memory benchmarks, one lazy ``"module:attr"``
entry each.

A target is a plain function taking keyword options and returning a JSON-able dict. It lives with what it
measures (``vllavo/describe/bench.py``, ``zoo/bench.py``, ``react/bench.py``; class scoring and deciding in
``methods/bench.py``, the lowest floor that sees the LM core, VLLaVO's prompts and the VLM together); this
list, on the eval floor above all of them, is the one place that names them. Analyses of runs and models are
studies (``steervis study --list``, :mod:`steervis.studies`).

>>> from steervis.eval.benchmarks import BENCHMARKS
>>> BENCHMARKS.names()[:2], "score" in BENCHMARKS, "paired" in BENCHMARKS
(['decide-modes', 'describe'], True, False)
"""

from __future__ import annotations

from steervis.registry import Registry

BENCHMARKS = Registry("benchmark")
BENCHMARKS.register("describe", "steervis.vllavo.describe.bench:bench_describe",
                    help="describe images/s vs raw efficientnet-lite0 forward")
BENCHMARKS.register("zoo-load", "steervis.zoo.bench:zoo_load",
                    help="embedded model load times, first (empty cache) and cached, fresh processes")
BENCHMARKS.register("score", "steervis.methods.bench:score_strategies",
                    help="class scoring s/prompt: full forward, per-class cache, steervis, prompt pass alone "
                         "(--set mode=image: an image prefix through the VLM)")
BENCHMARKS.register("decide-modes", "steervis.methods.bench:decide_modes",
                    help="describe-decide score vs generate on one adapter: images/s and how often they "
                    "agree")
BENCHMARKS.register("serve", "steervis.serve.bench:bench_serve",
                    help="the web page on loopback: chat first-token latency and tokens/s through its API, "
                    "then 16 clients x 20 requests (p50/p99, lost or mixed-up answers)")
BENCHMARKS.register("precision", "steervis.methods.precision_bench:bench_precision",
                    help="each quick-preset model stage in float32 vs bfloat16 on the CPU: seconds and "
                    "ratio; run=DIR estimates that run's rows")
BENCHMARKS.register("retrieval", "steervis.react.bench:bench_retrieval",
                    help="pool index build, query latency, HNSW recall and retrieval precision per class")
