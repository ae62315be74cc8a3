"""An image classifier's inference copy (conv+BN folded by torch.fx, channels_last) answers as the classifier
does, and leaves the classifier as it was."""

from __future__ import annotations

import pytest
import torch

from steervis.zoo.bundles import ImageClassifier


class TinyNet(torch.nn.Module):
    """features + classifier, as the EfficientNet-style backbones the zoo wraps."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
                                        torch.nn.BatchNorm2d(8), torch.nn.ReLU6(),
                                        torch.nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),
                                        torch.nn.BatchNorm2d(8), torch.nn.ReLU6())
        self.classifier = torch.nn.Linear(8, 5)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def _random_stats(model: torch.nn.Module) -> torch.nn.Module:
    """Batch-norm statistics far from the identity, so folding them is visible if done wrong."""
    torch.manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


def _batch_norms(model: torch.nn.Module) -> int:
    return sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def test_the_folded_copy_gives_the_classifiers_outputs_and_leaves_it_untouched():
    clf = ImageClassifier(_random_stats(TinyNet()), [f"c{k}" for k in range(5)], input_size=32)
    pixels = torch.randn(3, 3, 32, 32)
    before = clf.forward_all(pixels)
    fast = clf.for_inference()
    after = fast.forward_all(pixels)
    assert _batch_norms(fast.model) == 0 and _batch_norms(clf.model) == 2  # folded in the copy only
    for key in ("grid", "pooled", "logits"):
        torch.testing.assert_close(after[key], before[key], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(clf.forward_all(pixels)["logits"], before["logits"], rtol=0, atol=0)
    assert fast.preprocess_id == clf.preprocess_id and fast.class_names is clf.class_names


def test_efficientnet_lite0_traces_and_folds():
    geffnet = pytest.importorskip("geffnet")
    model = _random_stats(geffnet.create_model("efficientnet_lite0", pretrained=False))
    clf = ImageClassifier(model, [str(k) for k in range(1000)], input_size=64)
    pixels = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(clf.for_inference().forward_all(pixels)["logits"],
                               clf.forward_all(pixels)["logits"], rtol=1e-3, atol=1e-4)


def test_a_half_precision_classifier_is_not_folded():
    clf = ImageClassifier(_random_stats(TinyNet()).to(torch.bfloat16), ["a"] * 5)
    assert clf.for_inference() is clf
