"""The mapping: image × criterion → the matcher's similarity, phrases embedded once."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from steervis.errors import SteervisError
from steervis.vrl.criteria import Criterion
from steervis.vrl.mapping import CriterionMapper

CRITERIA = [Criterion("red skin"), Criterion("a green leaf"), Criterion("red skin", "contrast", "green skin")]


class ColourMatcher:
    """Red images and texts that say red point one way, everything else the other; it counts text calls."""

    name, disk_cache = "colour", False

    def __init__(self):
        self.texts: list[str] = []

    def encode_texts(self, texts):
        self.texts += texts
        return np.array([[1.0, 0.0] if "red" in t else [0.0, 1.0] for t in texts])

    def encode_images(self, images):
        return np.array([[1.0, 0.0] if np.asarray(i)[..., 0].mean() > 128 else [0.0, 1.0] for i in images])


def test_an_image_scores_higher_on_the_criterion_it_matches():
    images = [Image.new("RGB", (8, 8), (220, 10, 10)), Image.new("RGB", (8, 8), (10, 200, 10))] * 3
    mapper = CriterionMapper(ColourMatcher(), batch_size=4)
    scores = mapper.map_images(images, CRITERIA)
    assert scores.shape == (6, 3)
    red, green = scores[0], scores[1]
    assert red[0] > red[1] and green[1] > green[0]
    assert red[2] == 1.0 and green[2] == -1.0  # a contrast: its first side's cosine minus its second's
    assert mapper.map_images([], CRITERIA).shape == (0, 3)


def test_phrases_are_embedded_once_per_mapper_and_written_through_the_template():
    matcher = ColourMatcher()
    mapper = CriterionMapper(matcher, template="a photo showing {}")
    mapper.scores(np.eye(2), CRITERIA)
    mapper.scores(np.eye(2), [*CRITERIA, Criterion("a stem")])
    assert sorted(matcher.texts) == sorted(f"a photo showing {p}" for p in
                                           ("red skin", "a green leaf", "green skin", "a stem"))
    with pytest.raises(SteervisError, match="no '\\{\\}'"):
        CriterionMapper(matcher, template="a photo")
    with pytest.raises(SteervisError, match="no criteria"):
        mapper.scores(np.eye(2), [])


def test_a_tiny_clip_maps_every_image_on_every_criterion():
    from steervis.matchers import build_matcher

    images = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    scores = CriterionMapper(build_matcher("tiny-clip")).map_images(images, CRITERIA)
    assert scores.shape == (3, 3) and np.isfinite(scores).all()
    assert np.abs(scores[:, :2]).max() <= 1 + 1e-5  # questions are cosines
