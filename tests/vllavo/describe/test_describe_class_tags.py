"""Class tags (LENS's classification setting): the matcher's ranking of the task's class names leads the
tags."""

import numpy as np
import pytest

from steervis.data import load_folder, make_toy_dataset
from steervis.errors import SteervisError
from steervis.matchers import build_matcher
from steervis.vllavo.describe import DescribeConfig, describe

CLASSES = ["circle", "hot_air_balloon", "square"]


def config(**kw):
    return DescribeConfig(matcher="tiny-clip", tagger="vocab", attribute_vocab="", tag_threshold=0.0, **kw)


def test_class_tags_lead_in_the_matchers_order_and_are_not_repeated(tmp_home, tmp_path):
    toy = make_toy_dataset(tmp_path / "toy", classes=("circle", "square"), per_class=1, size=40)
    frame = load_folder(toy).frame
    out = describe(frame, config(class_tags=2, classes=CLASSES), progress=False)
    matcher = build_matcher("tiny-clip")
    names = [c.replace("_", " ") for c in CLASSES]
    sims = matcher.encode_images(list(frame["path"])) @ matcher.encode_texts(names).T
    for d, row in zip(out, sims, strict=True):
        expected = [names[j] for j in np.argsort(-row)[:2]]
        # exactly two, whatever their scores: rank is the signal
        assert [t for t, _ in d.tags[:2]] == expected
        # a vocabulary tag never repeats a class tag
        assert len({t.lower() for t, _ in d.tags}) == len(d.tags)


def test_class_tags_enter_the_key_only_when_set():
    plain = config()
    assert config(classes=CLASSES).cache_key() == plain.cache_key()  # ignored (and keys unchanged) when off
    on = config(class_tags=2, classes=CLASSES)
    assert on.cache_key() != plain.cache_key()
    assert on.cache_key() == config(class_tags=2, classes=list(reversed(CLASSES))).cache_key()
    assert on.cache_key() != config(class_tags=2, classes=CLASSES + ["star"]).cache_key()
    assert on.cache_key() != config(class_tags=3, classes=CLASSES).cache_key()


def test_for_task_fills_classes_only_where_needed():
    assert config().for_task(CLASSES).classes == []
    assert config(class_tags=1).for_task(["b", "a"]).classes == ["a", "b"]
    assert config(class_tags=1, classes=["x", "y"]).for_task(["a", "b"]).classes == ["x", "y"]


def test_class_tags_without_classes_or_negative_are_explained(tmp_home, tmp_path):
    with pytest.raises(SteervisError, match="class_tags must be"):
        config(class_tags=-1)
    toy = make_toy_dataset(tmp_path / "toy", classes=("circle", "square"), per_class=1, size=40)
    with pytest.raises(SteervisError, match="needs the task's class names"):
        describe(load_folder(toy).frame, config(class_tags=2), progress=False)


def test_styles_prompts_rank_class_tags_as_zero_shot_does(tmp_home, tmp_path):
    from steervis.matchers.prompts import STYLE_TEMPLATES, class_embeddings

    toy = make_toy_dataset(tmp_path / "toy", classes=("circle", "square"), per_class=2, size=40)
    frame = load_folder(toy).frame
    single = describe(frame, config(class_tags=3, classes=CLASSES), progress=False)
    styles = describe(frame, config(class_tags=3, classes=CLASSES, class_prompts="styles"), progress=False)
    matcher = build_matcher("tiny-clip")
    names = [c.replace("_", " ") for c in CLASSES]
    sims = matcher.encode_images(list(frame["path"])) @ class_embeddings(names, STYLE_TEMPLATES,
                                                                         matcher.encode_texts).T
    for d, row in zip(styles, sims, strict=True):
        assert [t for t, _ in d.tags[:3]] == [names[j] for j in np.argsort(-row)[:3]]
    # the random tiny tower ranks differently under the ensemble on at least one image, so the field is not
    # inert
    assert [d.tags[:3] for d in single] != [d.tags[:3] for d in styles]


def test_class_prompts_key_and_errors():
    on = config(class_tags=2, classes=CLASSES)
    assert config(class_tags=2, classes=CLASSES, class_prompts="template").cache_key() == on.cache_key()
    assert config(class_tags=2, classes=CLASSES, class_prompts="styles").cache_key() != on.cache_key()
    # no class tags: nothing to rank
    assert config(class_prompts="styles").cache_key() == config().cache_key()
    with pytest.raises(SteervisError, match="Unknown class prompt set 'style'. Did you mean 'styles'"):
        config(class_tags=2, class_prompts="style")
