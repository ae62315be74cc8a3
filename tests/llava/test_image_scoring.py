"""Class scoring with an image prefix: the peers' strategies (lm-evaluation-harness' full forward,
VLMClassifier's per-class cache) agree with steervis' prefix tree, and a subset of a full scoring is scoring
that subset."""

import numpy as np
import torch

from steervis.lm.reference import full_forward_loglik, per_class_cache_loglik
from steervis.lm.scoring import loglik


def test_reference_strategies_read_the_image_and_match_prefix_tree_scoring(tiny_vlm):
    torch.manual_seed(0)
    with torch.no_grad():  # wider weights: the image must visibly move the scores
        for p in tiny_vlm.lm.model.parameters():
            p.normal_(0, 0.5)
    images = [torch.randn(16, 320), torch.randn(16, 320)]
    prompts = tiny_vlm.prompts(["What is it?"] * 2, images)
    classes = ["cat", "dog", "red car", "cat food"]
    ours, _ = loglik(tiny_vlm.lm, prompts, classes)
    np.testing.assert_allclose(full_forward_loglik(tiny_vlm.lm, prompts, classes, batch_size=3), ours,
                               atol=1e-4)
    np.testing.assert_allclose(per_class_cache_loglik(tiny_vlm.lm, prompts, classes), ours, atol=1e-4)
    assert np.abs(ours[0] - ours[1]).max() > 1e-3  # two images, two different score rows


def test_subset_scores_equal_scoring_the_subset_alone(tiny_vlm):
    """The sweep's shortcut: restricting a full scoring to a subset is scoring that subset."""
    import torch

    from steervis.lm.scoring import loglik, reduce_scores

    torch.manual_seed(0)
    images = [torch.randn(16, 320) for _ in range(3)]
    prompts = tiny_vlm.prompts(["What type of object is in the photo?"] * 3, images)
    classes = ["cat", "dog", "red car", "cat food", "tree"]
    sums, lengths = loglik(tiny_vlm.lm, prompts, classes)
    subset = [1, 3, 4]
    np.testing.assert_allclose(reduce_scores(sums[:, subset], lengths[subset]),
                               tiny_vlm.score(images, [classes[i] for i in subset]), atol=1e-5)
