"""Protocols (DG, UDA), metrics and the HTML report; ``evaluate`` runs them all.

>>> from steervis.eval import EvaluateConfig
>>> EvaluateConfig().protocol
'dg'
"""

from steervis.eval.harness import EvaluateConfig, RunResult, UDAConfig, evaluate

__all__ = ["EvaluateConfig", "RunResult", "UDAConfig", "evaluate"]
