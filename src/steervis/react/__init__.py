"""REACT (Liu et al., CVPR 2023): retrieve pool pairs for a task's class names, customize a matcher on them.

* :mod:`~steervis.react.retrieve`: the pool pairs most relevant to class names (FAISS, text-to-text or
  text-to-image);
* :mod:`~steervis.react.gated_head`, :mod:`~steervis.react.gated_clip`: gated blocks, the identity until
  trained;
* :mod:`~steervis.react.train_head`, :mod:`~steervis.react.train_clip`: the locked-text customization,
  resumable;
* :mod:`~steervis.react.bases`: what is customized (ConSE offline, a CLIP by hub id);
* :mod:`~steervis.react.build`: ``react-pool`` (the whole pool, settings chosen on held-out concepts) and the
  per-task ``react``, saved with their model cards;
* :mod:`~steervis.react.matchers`: the customized matchers as the matcher registry loads them.

Names load lazily so ``import steervis.react`` stays instant (faiss and torch load on first use).

>>> from steervis.react import REACT_BASES
>>> "conse" in REACT_BASES.names()
True
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "VectorIndex": "steervis.matchers.index",
    "recall_at_k": "steervis.matchers.index",
    "retrieve": "steervis.react.retrieve",
    "pool_index": "steervis.react.retrieve",
    "REACT_BASES": "steervis.react.bases",
    "ReactSettings": "steervis.react.train_head",
    "customize": "steervis.react.train_head",
    "customize_clip": "steervis.react.train_clip",
    "react_for": "steervis.react.build",
    "load_customized": "steervis.react.matchers",
    "ReactMatcher": "steervis.react.matchers",
    "build_react_pool": "steervis.react.build",
    "customized_models": "steervis.react.build",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
