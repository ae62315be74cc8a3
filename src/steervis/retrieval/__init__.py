"""REACT (Liu et al., CVPR 2023): retrieve pool pairs for a task's class names, customize a matcher on them.

Names load lazily so ``import steervis.retrieval`` stays instant (faiss and torch load on first use).

>>> from steervis.retrieval import REACT_BASES
>>> "conse" in REACT_BASES.names()
True
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "VectorIndex": "steervis.describe.index",
    "recall_at_k": "steervis.describe.index",
    "retrieve": "steervis.retrieval.retrieve",
    "pool_index": "steervis.retrieval.retrieve",
    "REACT_BASES": "steervis.retrieval.bases",
    "ReactSettings": "steervis.retrieval.react",
    "customize": "steervis.retrieval.react",
    "customize_clip": "steervis.retrieval.react_clip",
    "react_for": "steervis.retrieval.customize",
    "build_react_pool": "steervis.retrieval.customize",
    "customized_models": "steervis.retrieval.customize",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
