"""The ``llava`` captioner in describe: one greedy caption plus sampled ones, through the describer and
store."""

import pytest

from steervis.data import load_folder, make_toy_dataset
from steervis.errors import SteervisError
from steervis.vllavo.describe import CAPTIONERS, DescribeConfig, describe


def test_tiny_llava_captions_through_describe_greedy_then_sampled(tmp_home, tmp_path):
    frame = load_folder(make_toy_dataset(tmp_path / "toy", classes=("circle", "square"), per_class=1,
                                         size=40)).frame
    cfg = DescribeConfig(matcher="tiny-clip", captioner="tiny-llava", samples=2, max_caption_tokens=4,
                         batch_size=3, attribute_vocab="")
    out = describe(frame, cfg, progress=False)
    assert out.summary.described == len(frame) == 4
    assert all(len(d.captions) == 3 for d in out)  # 1 greedy + 2 sampled
    assert out[0].provenance["captioner"] == "tiny-llava"
    cap = CAPTIONERS.build("tiny-llava", prompt="a picture of", max_new_tokens=4, seed=0)
    images = [__import__("PIL.Image").Image.open(p) for p in frame["path"][:2]]
    greedy = cap.caption(images, beams=1, samples=0)
    assert greedy == cap.caption(images, beams=1, samples=0)  # greedy is deterministic
    assert greedy == [c[:1] for c in cap.caption_pixels(cap.preprocess(images), beams=1, samples=0)]
    sampled = cap.caption(images, beams=0, samples=2)
    assert sampled == cap.caption(images, beams=0, samples=2)  # seeded sampling


def test_llava_captioner_without_a_trained_model_says_so(tmp_home):
    with pytest.raises(SteervisError, match="No LLaVA is trained here"):
        CAPTIONERS.build("llava", prompt="", max_new_tokens=4, seed=0)
