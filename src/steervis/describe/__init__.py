"""Describe: images → tags, attributes and captions (VLLaVO's first half), cached by content.

Names load lazily so ``import steervis.describe`` stays instant; torch loads when a model is first needed.

>>> import tempfile
>>> from steervis.data import load_folder, make_toy_dataset
>>> from steervis.describe import DescribeConfig, describe
>>> frame = load_folder(make_toy_dataset(tempfile.mkdtemp())).frame  # doctest: +SKIP
>>> out = describe(frame, DescribeConfig(store=tempfile.mkdtemp()))  # doctest: +SKIP
>>> print(out[0].render())  # doctest: +SKIP
Tags:
- ...
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "Description": "steervis.describe.description",
    "DescribeConfig": "steervis.describe.config",
    "describe": "steervis.describe.run",
    "Descriptions": "steervis.describe.run",
    "DescribeSummary": "steervis.describe.run",
    "Describer": "steervis.describe.describer",
    "get_describer": "steervis.describe.describer",
    "TAGGERS": "steervis.describe.describer",
    "DescriptionStore": "steervis.describe.store",
    "Matcher": "steervis.describe.matchers",
    "MATCHERS": "steervis.describe.matchers",
    "build_matcher": "steervis.describe.matchers",
    "load_customized": "steervis.describe.matchers",
    "Captioner": "steervis.describe.captioners",
    "build_captioner": "steervis.describe.captioners",
    "CAPTIONERS": "steervis.describe.captioners",
    "load_vocabulary": "steervis.describe.vocab",
    "export_descriptions": "steervis.describe.export",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
