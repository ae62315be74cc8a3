"""Every load honours its config's placement: asked for bfloat16 (observable on the CPU), the weights each
config loads are bfloat16; by default (auto on the CPU) they are float32, as before the setting existed."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from steervis import zoo


def dtypes(*modules) -> set[torch.dtype]:
    return {p.dtype for m in modules for p in m.parameters() if p.is_floating_point()}


def test_the_zoo_places_what_it_loads():
    assert dtypes(zoo.load("tiny-llama", kind="causal-lm").model) == {torch.float32}
    bundle = zoo.load("tiny-clip", kind="clip", device="cpu", dtype="bfloat16")
    assert dtypes(bundle.model) == {torch.bfloat16} and bundle.model.device.type == "cpu"


def test_describe_config_places_its_matcher_and_captioner(tmp_path):
    from steervis.vllavo.describe.config import DescribeConfig
    from steervis.vllavo.describe.describer import Describer

    vocab = tmp_path / "tags.txt"
    vocab.write_text("dog\ncat\n")
    cfg = DescribeConfig(matcher="tiny-clip", captioner="tiny-blip", tag_vocab=str(vocab), attribute_vocab="",
                         device="cpu", dtype="bfloat16")
    describer = Describer(cfg)
    assert dtypes(describer.matcher.model, describer.captioner.model) == {torch.bfloat16}


def test_decide_config_places_its_lm():
    from steervis.vllavo.decide.config import DecideConfig
    from steervis.vllavo.decide.decider import Decider

    assert dtypes(Decider(DecideConfig(model="tiny-llama", dtype="bfloat16")).lm.model) == {torch.bfloat16}


@pytest.mark.parametrize("name", ["tiny-vlm", "tiny-llava"])
def test_open_vlm_places_the_lm_and_the_projector(name):
    from steervis.llava.vlms import open_vlm

    vlm = open_vlm(name, device="cpu", dtype="bfloat16")
    assert dtypes(vlm.lm.model) == {torch.bfloat16}
    if name == "tiny-vlm":
        assert dtypes(vlm.lm.splicer.projector) == {torch.bfloat16}


def test_a_method_option_places_the_model_it_reads(tmp_home, tmp_path):
    from steervis.data import load_folder, make_toy_dataset
    from steervis.methods import build_method
    from steervis.methods.context import MethodContext

    frame = load_folder(make_toy_dataset(tmp_path / "toy", classes=("circle", "square"), per_class=1,
                                         size=32)).frame
    context = MethodContext(progress=False)
    method = build_method("zeroshot", context, {"matcher": "tiny-clip", "dtype": "bfloat16"})
    assert method.fit(None, ["circle", "square"]).predict_proba(frame).shape == (len(frame), 2)
    assert dtypes(context.matcher("tiny-clip", "auto", "bfloat16").model) == {torch.bfloat16}
    assert list(context._matchers) == [("tiny-clip", "auto", "bfloat16")]  # the only matcher it loaded


def test_react_settings_place_the_customized_clip(tmp_path):
    from steervis.data import load_folder, make_toy_dataset
    from steervis.react.train_clip import customize_clip
    from steervis.react.train_head import ReactSettings

    frame = load_folder(make_toy_dataset(tmp_path / "toy", classes=("circle", "square"), per_class=1,
                                         size=32)).frame
    texts = [f"a {c}" for c in frame["class"]]
    settings = ReactSettings(epochs=1, batch_size=4, dtype="bfloat16")
    ids = pd.factorize(pd.Series(texts))[0]
    model, losses = customize_clip("tiny-clip", frame["path"].tolist(), texts, ids, settings, progress=False)
    assert dtypes(model) == {torch.bfloat16} and len(losses) == 1


def test_features_cached_in_one_precision_are_never_read_in_another(tmp_home, tmp_path):
    from steervis.data import load_folder, make_toy_dataset
    from steervis.methods.context import MethodContext

    frame = load_folder(make_toy_dataset(tmp_path / "toy", classes=("circle", "square"), per_class=1,
                                         size=32)).frame
    context = MethodContext(progress=False)
    full = context.image_embeddings(frame, "tiny-clip", "cpu", "float32")
    half = context.image_embeddings(frame, "tiny-clip", "cpu", "bfloat16")
    assert not (full == half).all()  # computed again in bfloat16, not read from the float32 cache
    assert sorted(context._stores) == ["matcher-tiny-clip", "matcher-tiny-clip-bfloat16"]
