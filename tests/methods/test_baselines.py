import numpy as np
import pandas as pd
import pytest

from steervis.errors import SteervisError
from steervis.methods import METHODS, check_classes, check_labels
from steervis.methods.by_description import ByDescription, parse_descriptors
from steervis.methods.context import MethodContext


def test_parse_descriptors_keeps_short_distinct_phrases():
    text = ("- eyes: the cat's eyes are usually round\n- eyes: the cat's eyes\n"
            "1. Pointed ears, often upright.\n- cat\n- **whiskers**")
    assert parse_descriptors(text, "cat") == ["eyes", "pointed ears", "whiskers"]


def test_class_and_label_checks():
    with pytest.raises(SteervisError, match="empty"):
        check_classes([])
    with pytest.raises(SteervisError, match="Duplicate class names: dog"):
        check_classes(["dog", "cat", "dog"])
    with pytest.raises(SteervisError, match="not among the classes: cow"):
        check_labels(pd.DataFrame({"class": ["dog", "cow"]}), ["dog", "cat"])


class FakeMatcher:
    """Texts mentioning 'red' point one way, everything else the other: a matcher whose answer is known."""

    name = "fake"

    def encode_texts(self, texts):
        return np.array([[1.0, 0.0] if "red" in t else [0.0, 1.0] for t in texts])


def test_by_description_scores_classes_by_their_descriptors(tmp_path, monkeypatch):
    ctx = MethodContext(progress=False)
    monkeypatch.setattr(ctx, "matcher", lambda name, *placement: FakeMatcher())
    monkeypatch.setattr(ctx, "image_embeddings",
                        lambda items, name, *placement: np.array([[1.0, 0.0], [0.0, 1.0]]))
    path = tmp_path / "d.yaml"
    path.write_text("apple: [red skin, a stem]\nbanana: [yellow peel, curved shape]\n")
    clf = ByDescription(ctx, matcher="fake", descriptors=str(path)).fit(None, ["apple", "banana"])
    proba = clf.predict_proba(pd.DataFrame({"sha256": ["a", "b"]}))
    assert proba.argmax(axis=1).tolist() == [0, 1]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    bad = tmp_path / "bad.yaml"
    bad.write_text("apple: [red]\n")
    with pytest.raises(SteervisError, match="no descriptors for: banana"):
        ByDescription(ctx, descriptors=str(bad)).fit(None, ["apple", "banana"])


def test_every_registered_method_builds():
    for name in METHODS.names():
        assert METHODS.get(name) is not None


def test_description_probe_learns_the_words_and_scatters_unseen_classes():
    from steervis.methods.description_probe import DescriptionProbe

    texts = {"a": "Tags:\n- whiskers\n- fur", "b": "Tags:\n- wheels\n- road",
             "c": "Tags:\n- fur\n- whiskers tail", "d": "Tags:\n- road\n- tyre wheels"}
    ctx = MethodContext(progress=False)
    ctx.describe_texts = lambda frame: [texts[k] for k in frame["key"]]
    train = pd.DataFrame({"key": ["a", "b", "c", "d"], "class": ["cat", "car", "cat", "car"]})
    probe = DescriptionProbe(ctx).fit(train, ["car", "cat", "dog"])
    proba = probe.predict_proba(pd.DataFrame({"key": ["c", "d"]}))
    assert proba.shape == (2, 3) and np.allclose(proba.sum(1), 1)
    assert list(proba.argmax(1)) == [1, 0]
    assert (proba[:, 2] == 0).all()  # "dog" never seen in training: probability 0, not a crash


def test_linear_probe_reads_the_tower_grid_when_asked(tmp_home, tmp_path):
    from steervis.data import load_folder, make_toy_dataset
    from steervis.methods import build_method

    frame = load_folder(make_toy_dataset(tmp_path / "toy", per_class=2)).frame
    context = MethodContext(progress=False)
    pooled = context.image_features(frame)
    grid = context.grid_features(frame)
    assert pooled.shape == (len(frame), 1280) and grid.shape == (len(frame), 16 * 320)
    probe = build_method("linear-probe", context, {"feature": "grid"})
    proba = probe.fit(frame, sorted(frame["class"].unique())).predict_proba(frame)
    assert np.allclose(proba.sum(axis=1), 1)
    with pytest.raises(SteervisError, match="choose one of pooled, grid"):
        build_method("linear-probe", context, {"feature": "gird"})
