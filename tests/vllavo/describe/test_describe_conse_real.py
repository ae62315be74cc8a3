"""The embedded ConSE matcher on real weights and a real photo from minidomains."""

import pytest

from steervis.data.images import open_image
from steervis.matchers import build_matcher

PROMPTS = ["a dog", "a cat", "a car", "an airplane", "a banana", "a guitar"]


@pytest.mark.slow
def test_conse_ranks_a_dog_first_for_dog_photos(minidomains_root):
    dogs = sorted((minidomains_root / "photo" / "dog").glob("*"))
    if not dogs:
        pytest.skip("minidomains has no photo/dog images")
    matcher = build_matcher("conse")
    images = matcher.encode_images([open_image(p) for p in dogs])
    texts = matcher.encode_texts(PROMPTS)
    assert images.shape == (len(dogs), 384)
    best = (images @ texts.T).argmax(axis=1)
    assert (best == 0).all(), [PROMPTS[i] for i in best]
