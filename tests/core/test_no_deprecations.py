"""The library paths a demo runs print no deprecation warnings (transformers, torch, peft, accelerate,
geffnet).

Runs the tiny stand-ins of the demo's models through the same calls: image classifier, CLIP matcher, the
decide fit (LoRA training), class scoring and beam generation.
"""

from __future__ import annotations

import warnings

import pandas as pd

from steervis.methods.describe_decide import DescribeDecide
from steervis.vllavo.decide.config import DecideConfig, TrainSettings


def test_demo_paths_warn_about_no_deprecated_api(tmp_home):
    frame = pd.DataFrame({"text": ["Tags:\n- fur", "Tags:\n- wheels"], "class": ["cat", "car"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from steervis import zoo
        from steervis.matchers import build_matcher

        zoo.load("efficientnet-lite0", kind="image-classifier")
        build_matcher("tiny-clip").encode_texts(["a dog"])
        config = DecideConfig(model="tiny-llama", train=TrainSettings(epochs=1, batch_size=2))
        clf = DescribeDecide(lambda f: list(f["text"]), config, progress=False, also=["generate"])
        clf.fit(frame, ["car", "cat"]).predict_proba(frame)
        clf.variants()["generate"](frame)
    deprecations = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught
                    if issubclass(w.category, DeprecationWarning | FutureWarning)]
    assert not deprecations, "\n".join(deprecations)
