"""Load models by name: embedded packaged weights, any Hugging Face hub id, or tiny random-init configs.

>>> from steervis import zoo
>>> {"efficientnet-lite0", "minilm-l6"} <= {m["name"] for m in zoo.list_models()}
True
>>> lm = zoo.load("smollm2-135m-instruct", kind="causal-lm")  # doctest: +SKIP
"""

from steervis.zoo import embedded, hub, tiny  # noqa: F401  (registers the named models and hub loaders)
from steervis.zoo.bundles import CausalLM, ImageClassifier, TextEncoder, VisionTextModel
from steervis.zoo.core import EMBEDDED_DEFAULT, MODELS, entry, hub_reachable, list_models, load

__all__ = [
    "EMBEDDED_DEFAULT", "MODELS", "CausalLM", "ImageClassifier", "TextEncoder", "VisionTextModel",
    "entry", "hub_reachable", "list_models", "load",
]
