"""Every grounder keeps the contract: one Detections per image, boxes inside it, phrases of the prompt,
best first; long prompts chunked and merged; bad inputs one sentence or an empty result."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from steervis.errors import SteervisError
from steervis.ground import GROUNDERS, Detections, open_grounder
from steervis.ground.glip import InferSettings

TINY = ["tiny-glip", "tiny-crop", "tiny-owlvit", "tiny-owlv2", "tiny-grounding-dino"]
IMAGES = [Image.new("RGB", (96, 64), "red"), Image.new("RGB", (40, 120), "white")]


@pytest.mark.parametrize("name", TINY)
def test_each_grounder_keeps_the_contract(name):
    grounder = open_grounder(name, device="cpu", settings=InferSettings(threshold=0.0, max_detections=20))
    found = grounder.ground(IMAGES, "a red square. a dog. a guitar.")
    assert len(found) == 2 and all(isinstance(d, Detections) for d in found)
    for det, image in zip(found, IMAGES, strict=True):
        boxes, scores, phrases = det
        assert 0 < len(det) <= 20 and boxes.shape == (len(det), 4) and len(phrases) == len(det)
        assert set(phrases) <= {"a red square", "a dog", "a guitar"}
        assert (boxes[:, 0] <= boxes[:, 2]).all() and (boxes[:, 1] <= boxes[:, 3]).all()
        assert boxes.min() >= 0 and (boxes[:, [0, 2]] <= image.width).all() and (boxes[:, [1, 3]] <=
                                                                                 image.height).all()
        assert (np.diff(scores) <= 1e-6).all()  # best first


@pytest.mark.parametrize("name", TINY)
def test_nothing_scoring_above_the_threshold_is_an_empty_result(name):
    grounder = open_grounder(name, device="cpu", settings=InferSettings(threshold=1.0))
    assert [len(d) for d in grounder.ground(IMAGES, "a guitar.")] == [0, 0]
    assert grounder.ground([], "a guitar.") == []


def test_chunks_of_independent_queries_merge_to_the_unchunked_answer():
    # OWL reads each phrase as its own query: chunked or not, every (patch, phrase) pair scores the same
    prompt = ". ".join(f"thing {i}" for i in range(7))
    image = [Image.fromarray((np.random.default_rng(0).random((64, 96, 3)) * 255).astype("uint8"))]
    keep_all = {"threshold": 0.0, "nms_iou": 1.0, "max_detections": 10_000}
    whole = open_grounder("tiny-owlvit", "cpu", settings=InferSettings(**keep_all, chunk=16))
    cut = open_grounder("tiny-owlvit", "cpu", settings=InferSettings(**keep_all, chunk=3))
    whole, cut = whole.ground(image, prompt), cut.ground(image, prompt)
    a, b = whole[0], cut[0]
    assert len(a) == len(b) == 7 * 16  # 16 patches of a 32 px image, 7 phrases
    order_a, order_b = np.lexsort((a.scores, a.phrases)), np.lexsort((b.scores, b.phrases))
    assert [a.phrases[i] for i in order_a] == [b.phrases[i] for i in order_b]
    assert np.allclose(a.scores[order_a], b.scores[order_b], atol=1e-5)
    assert np.allclose(a.boxes[order_a], b.boxes[order_b], atol=1e-3)


def test_a_prompt_of_500_phrases_is_read_in_chunks():
    grounder = open_grounder("tiny-glip", "cpu", settings=InferSettings(threshold=0.0))
    prompt = ". ".join(f"thing {i}" for i in range(500))
    (det,) = grounder.ground([IMAGES[0]], prompt)
    assert len(det) == 100 and len({p for p in det.phrases}) > 1
    assert {int(p.split()[1]) for p in det.phrases} - set(range(16))  # phrases past the first chunk answer


@pytest.mark.parametrize(("images", "prompt", "says"), [
    (IMAGES, "", "names nothing"),
    ([Image.new("1", (8000, 6000))], "a dog.", "at most 40,000,000"),
    (["photo.jpg"], "a dog.", "PIL images, not str"),
])
def test_bad_inputs_are_one_sentence(images, prompt, says):
    with pytest.raises(SteervisError, match=says):
        open_grounder("tiny-glip", "cpu").ground(images, prompt)


def test_names_unknown_and_unavailable_are_one_sentence(tmp_path):
    with pytest.raises(SteervisError, match="Did you mean 'owlv2'"):
        open_grounder("owlv3")
    with pytest.raises(SteervisError, match="not available"):
        open_grounder("someone/no-such-detector", device="cpu")
    with pytest.raises(SteervisError, match="not a trained grounding model"):
        open_grounder(f"{tmp_path}/empty", device="cpu")
    assert {"glip", "crop", "owlvit", "owlv2", "grounding-dino"} <= set(GROUNDERS.names())


def test_with_fusion_each_chunk_keeps_the_boxes_it_computed():
    # chunks of one phrase: each phrase's detections are those of a prompt of that phrase alone
    from steervis.ground.glip import GlipGrounder
    from steervis.ground.model import GlipConfig

    config = GlipConfig(trunk="tiny", stride=16, size=64, text="tiny-bert", hidden=16, fusion=True)
    keep_all = InferSettings(threshold=0.0, nms_iou=1.0, max_detections=10_000, chunk=1)
    grounder = GlipGrounder.create(config, device="cpu", settings=keep_all)
    (together,) = grounder.ground([IMAGES[0]], "a dog. a guitar.")
    for phrase in ("a dog", "a guitar"):
        (alone,) = grounder.ground([IMAGES[0]], f"{phrase}.")
        mine = [i for i, p in enumerate(together.phrases) if p == phrase]
        assert len(mine) == len(alone) == 16
        assert np.allclose(np.sort(together.scores[mine]), np.sort(alone.scores))
        assert np.allclose(np.sort(together.boxes[mine], axis=0), np.sort(alone.boxes, axis=0))
