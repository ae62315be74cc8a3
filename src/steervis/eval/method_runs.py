"""The rows of an evaluation: each of the config's ``runs`` with its describer resolved (the evaluation's
``describe`` with the run's layer on top) and its description parts, before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from steervis.config import from_dict, to_dict
from steervis.eval.config import EvaluateConfig


@dataclass
class MethodRun:
    """One row of the table: a registered method, its checked options and the descriptions it reads.

    ``label`` is the run's label (the method's name unless the run names another, e.g.
    ``describe-decide@react-pool``), so one evaluation compares describers or description parts side by side.
    """

    label: str
    method: str
    options: Any
    describe: Any
    components: tuple[str, ...] | None


def resolve_methods(cfg: EvaluateConfig) -> dict[str, MethodRun]:
    """Every run's describer and parts, by label; its options were checked when the config was built."""
    from steervis.vllavo.describe.config import DescribeConfig

    resolved: dict[str, MethodRun] = {}
    for run in cfg.runs:
        layer = run.describe.given()
        describe = (from_dict(DescribeConfig, {**to_dict(cfg.describe), **layer},
                              where=f"runs.{run.label}.describe.") if layer else cfg.describe)
        parts = run.components if run.components is not None else cfg.components
        resolved[run.label] = MethodRun(run.label, run.method, run.options, describe, tuple(parts) or None)
    return resolved
