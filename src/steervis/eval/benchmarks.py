"""Every ``steervis bench`` target, by name: one declarative registry of lazy ``"module:attr"`` entries.

A target is a plain function taking keyword options and returning a JSON-able dict. It lives with what it
measures (``vllavo/describe/bench.py``, ``zoo/bench.py``, ``methods/bench.py``); this list, on the eval floor
above all of them, is the one place that names them, so ``steervis bench --list`` shows every benchmark.

>>> from steervis.eval.benchmarks import BENCHMARKS
>>> len(BENCHMARKS.names()), BENCHMARKS.names()[:3]
(12, ['class-tags', 'decide-modes', 'describe'])
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
BENCHMARKS.register("react-zeroshot", "steervis.methods.bench:react_zeroshot",
                    help="zero-shot accuracy per domain: conse vs react-pool vs react, 95 % intervals")
BENCHMARKS.register("decide-modes", "steervis.methods.bench:decide_modes",
                    help="describe-decide score vs generate on one adapter: accuracy and images/s")
BENCHMARKS.register("retrieval", "steervis.react.bench:bench_retrieval",
                    help="pool index build, query latency, HNSW recall and retrieval precision per class")
BENCHMARKS.register("text-shift", "steervis.eval.textshift:bench_text_shift",
                    help="words of the descriptions per domain: top items, JS divergence to the other "
                    "domains")
BENCHMARKS.register("class-tags", "steervis.eval.classtags:bench_class_tags",
                    help="does the decider follow the class tags? first-tag accuracy vs the answers, per "
                    "domain")
BENCHMARKS.register("paired", "steervis.eval.paired:bench_paired",
                    help="method a minus method b on the same images of a run: per domain and DG mean, 95 % "
                    "CI")
BENCHMARKS.register("vlm-sweep", "steervis.methods.vlm_bench:vlm_sweep",
                    help="label-space sweep 2-34 classes: vlm-score vs the matcher's zero-shot, same images, "
                    "95 % CI")
BENCHMARKS.register("vlm-probe", "steervis.methods.vlm_bench:vlm_probe",
                    help="DG linear probes: the VLM's last hidden state vs its vision input vs efficientnet "
                    "pooled")
BENCHMARKS.register("vlm-captions", "steervis.eval.vlm_captions:vlm_captions",
                    help="captions of N images per domain (HTML page) and how often they name the class")
