"""The thin layer between image frames and the text-level decider: rows → rendered descriptions.

``describe_texts`` turns a describe config into the ``texts`` callable that ``DescribeDecide`` reads (through
``steervis.vllavo.describe.describe`` and ``Description.render``). It lives with the methods, above both
vllavo.describe and vllavo.decide, so that vllavo.decide reads text only.

>>> from steervis.methods.texts import describe_config
>>> describe_config({}).__class__.__name__
'DescribeConfig'
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)


def describe_config(values: dict[str, Any] | None = None) -> Any:
    """The describer's ``DescribeConfig`` from plain values (as stored in a model card)."""
    from steervis.config import from_dict
    from steervis.vllavo.describe import DescribeConfig

    return from_dict(DescribeConfig, values or {})


def describe_texts(config: Any = None, components: Sequence[str] = ("tags", "attributes", "captions"),
                   progress: bool = True, images: Any = None) -> Callable[[pd.DataFrame], list[str]]:
    """A ``rows → rendered descriptions`` callable over ``steervis.vllavo.describe.describe`` (cached by the
    store); ``images`` is the run's :class:`~steervis.data.decoded.DecodedImages`, if it has one."""

    def texts(frame: pd.DataFrame) -> list[str]:
        import steervis.vllavo.describe as describe
        found = describe.describe(frame, config, progress=progress, images=images)
        return [d.render(list(components)) if d is not None else "" for d in found]  # undecodable: empty

    return texts
