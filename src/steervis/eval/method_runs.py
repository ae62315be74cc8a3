"""The rows of an evaluation: each entry of ``methods`` resolved to a registered method, its checked options,
and the describer and description parts it reads, before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from steervis.config import to_dict
from steervis.errors import SteervisError
from steervis.eval.config import EvaluateConfig


@dataclass
class MethodRun:
    """One row of the table: a registered method, its checked options and the descriptions it reads.

    ``label`` is the entry of ``methods``: a method name, or ``METHOD@LABEL`` for a labelled variant whose
    ``method_options`` entry may also set ``describe`` (overrides of the run's describer) and ``components``,
    so one run compares describers or description parts side by side (e.g. ``describe-decide@react-pool``).
    """

    label: str
    method: str
    options: Any
    describe: Any
    components: tuple[str, ...] | None


# Harness keys a labelled variant may set beside its method's options.
VARIANT_KEYS = ("describe", "components")


def resolve_methods(cfg: EvaluateConfig) -> dict[str, MethodRun]:
    """Every method's ``Options``, checked before any work: a misspelt method, option or value fails here."""
    from steervis.config import from_dict
    from steervis.methods import METHODS, method_options
    from steervis.vllavo.describe.config import DescribeConfig

    for name in cfg.method_options:
        METHODS.get(name.partition("@")[0])  # did-you-mean on a misspelt method name in method_options
    resolved: dict[str, MethodRun] = {}
    for label in cfg.methods:
        method, _, variant = label.partition("@")
        values = dict(cfg.method_options.get(method, {}))  # a variant starts from its method's options
        extra = dict(cfg.method_options.get(label, {})) if variant else {}
        harness = {key: extra.pop(key) for key in VARIANT_KEYS if key in extra}
        values.update(extra)
        opts = method_options(method, values)
        # one source: the run's (or the variant's) components
        if getattr(opts, "components", None) is not None:
            raise SteervisError(f"method_options.{label}.components: set `components` at the top of the "
                                "evaluate config, or for a labelled variant METHOD@LABEL in its "
                                "method_options.")
        describe = cfg.describe
        if "describe" in harness:
            describe = from_dict(DescribeConfig, {**to_dict(cfg.describe), **harness["describe"]},
                                 where=f"method_options.{label}.describe.")
        components = tuple(harness.get("components", cfg.components)) or None
        resolved[label] = MethodRun(label, method, opts, describe, components)
    return resolved

