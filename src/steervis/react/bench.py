"""``steervis bench retrieval``: index build time, query latency, HNSW recall and retrieval precision.

    steervis bench retrieval --set classes=dog,cat,guitar      # default: minidomains' 34 class names
"""

from __future__ import annotations

import time
from typing import Any


def bench_retrieval(classes: str | list[str] | None = None, k: int = 50) -> dict[str, Any]:
    """For t2t and t2i over the pool: HNSW build seconds, ms per query (HNSW and exact), recall@k of HNSW
    against exact search, and the precision of the retrieved pairs per class (the text names the class)."""
    from steervis.data.minidomains import load_sources
    from steervis.matchers.conse import ConSEMatcher
    from steervis.matchers.features import image_features, text_features
    from steervis.matchers.index import VectorIndex, recall_at_k
    from steervis.react.retrieve import pool_manifest, precision, retrieve

    if isinstance(classes, str):
        classes = [c.strip() for c in classes.split(",") if c.strip()]
    classes = classes or sorted(load_sources())
    matcher = ConSEMatcher()
    frame, pool_hash = pool_manifest()
    ids = [str(i) for i in range(len(frame))]
    queries = matcher.encode_texts([f"a photo of a {c}." for c in classes])
    out: dict[str, Any] = {"classes": len(classes), "k": k}
    for mode in ("t2t", "t2i"):
        if mode == "t2t":
            vectors = text_features(matcher, frame["text"].tolist(), False)
        else:
            vectors = image_features(matcher, frame["path"].tolist(), frame["sha256"].tolist(), False).base
        start = time.perf_counter()
        hnsw = VectorIndex.build(vectors, ids)
        build = time.perf_counter() - start
        exact = VectorIndex.build(vectors, ids, kind="exact")
        timings = {}
        for name, index in (("hnsw", hnsw), ("exact", exact)):
            start = time.perf_counter()
            index.search(queries, k)
            timings[name] = 1000 * (time.perf_counter() - start) / len(queries)
        per_class = precision(retrieve(classes, k=k, mode=mode, matcher=matcher, pool=(frame, pool_hash),
                                       progress=False))
        out[mode] = {"rows": len(ids), "hnsw_build_s": round(build, 1),
                     "query_ms": {n: round(v, 3) for n, v in timings.items()},
                     f"hnsw_recall@{k}": round(recall_at_k(hnsw, exact, queries, k), 3),
                     "precision_mean": round(float(per_class.mean()), 3),
                     "precision_per_class": {c: round(float(v), 2) for c, v in per_class.items()}}
    return out
