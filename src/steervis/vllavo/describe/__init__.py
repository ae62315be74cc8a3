"""Describe: images → tags, attributes and captions (VLLaVO's first half), cached by content.

Names load lazily so ``import steervis.vllavo.describe`` stays instant; torch loads when a model is first
needed.

>>> import tempfile
>>> from steervis.data import load_folder, make_toy_dataset
>>> from steervis.vllavo.describe import DescribeConfig, describe
>>> frame = load_folder(make_toy_dataset(tempfile.mkdtemp())).frame  # doctest: +SKIP
>>> out = describe(frame, DescribeConfig(store=tempfile.mkdtemp()))  # doctest: +SKIP
>>> print(out[0].render())  # doctest: +SKIP
Tags:
- ...
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "Description": "steervis.vllavo.describe.description",
    "DescribeConfig": "steervis.vllavo.describe.config",
    "describe": "steervis.vllavo.describe.run",
    "Descriptions": "steervis.vllavo.describe.run",
    "DescribeSummary": "steervis.vllavo.describe.run",
    "Describer": "steervis.vllavo.describe.describer",
    "get_describer": "steervis.vllavo.describe.describer",
    "TAGGERS": "steervis.vllavo.describe.describer",
    "DescriptionStore": "steervis.vllavo.describe.store",
    "Captioner": "steervis.vllavo.describe.captioners",
    "build_captioner": "steervis.vllavo.describe.captioners",
    "CAPTIONERS": "steervis.vllavo.describe.captioners",
    "load_vocabulary": "steervis.vllavo.describe.vocab",
    "export_descriptions": "steervis.vllavo.describe.export",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
