"""The near-duplicate rule's measurement: copies of evaluation images caught, unrelated images kept."""

from __future__ import annotations

import numpy as np
from PIL import Image

from steervis.data.pool.exclude import hashes
from steervis.studies.phash_threshold import TRANSFORMS, copy_distances


def test_copies_land_near_their_original_and_a_different_drawing_far():
    rng = np.random.default_rng(0)
    images = []
    for _ in range(3):  # blocky random drawings: structure a perceptual hash sees
        blocks = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
        images.append(Image.fromarray(blocks).resize((128, 128), Image.Resampling.NEAREST))
    evals = np.array([hashes(i) for i in images], dtype=np.uint64)
    distances = copy_distances(images, evals)
    assert set(distances) == set(TRANSFORMS)
    assert np.median(np.concatenate(list(distances.values()))) <= 10
    other = np.array(hashes(images[1]), dtype=np.uint64)
    assert min(int(np.bitwise_count(evals[0][k] ^ other[k])) for k in range(2)) > 10
