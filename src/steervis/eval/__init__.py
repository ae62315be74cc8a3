"""Protocols (DG, UDA), metrics and the HTML report; ``evaluate`` runs them all.

Names are imported lazily, so ``from steervis.eval import EvaluateConfig`` does not import pandas.

>>> from steervis.eval import EvaluateConfig
>>> EvaluateConfig().protocol
'dg'
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "EvaluateConfig": "steervis.eval.config",
    "UDAConfig": "steervis.eval.config",
    "RunResult": "steervis.eval.harness",
    "evaluate": "steervis.eval.harness",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
