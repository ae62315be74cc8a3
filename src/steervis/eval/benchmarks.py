"""Every ``steervis bench`` target, by name: one declarative registry of lazy ``"module:attr"`` entries.

A target is a plain function taking keyword options and returning a JSON-able dict. It lives with what it
measures (``describe/bench.py``, ``zoo/bench.py``, ``methods/bench.py``); this list, on the eval floor above all
of them, is the one place that names them, so ``steervis bench --list`` shows every benchmark.

>>> from steervis.eval.benchmarks import BENCHMARKS
>>> BENCHMARKS.names()
['decide-modes', 'describe', 'react-zeroshot', 'reliability', 'retrieval', 'score', 'zoo-load']
"""

from __future__ import annotations

from steervis.registry import Registry

BENCHMARKS = Registry("benchmark")
BENCHMARKS.register("describe", "steervis.describe.bench:bench_describe",
                    help="describe images/s vs raw efficientnet-lite0 forward")
BENCHMARKS.register("zoo-load", "steervis.zoo.bench:zoo_load",
                    help="embedded model load times, first (empty cache) and cached, fresh processes")
BENCHMARKS.register("score", "steervis.methods.bench:score_strategies",
                    help="class scoring s/prompt: full forward, per-class cache, steervis, prompt pass alone")
BENCHMARKS.register("react-zeroshot", "steervis.methods.bench:react_zeroshot",
                    help="zero-shot accuracy per domain: conse vs react-pool vs react, 95 % intervals")
BENCHMARKS.register("decide-modes", "steervis.methods.bench:decide_modes",
                    help="describe-decide score vs generate on one adapter: accuracy and images/s")
BENCHMARKS.register("retrieval", "steervis.retrieval.bench:bench_retrieval",
                    help="pool index build, query latency, HNSW recall and retrieval precision per class")
BENCHMARKS.register("reliability", "steervis.eval.reliability_cases:bench_reliability",
                    help="every bad input and kill -9 point in subprocesses → docs/RELIABILITY.md (tiny models)")
