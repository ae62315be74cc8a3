import numpy as np
import pytest
import torch
from PIL import Image

from steervis.errors import SteervisError
from steervis.lm.batch import left_pad, positions
from steervis.lm.generate import generate


def _spread(vlm, seed=0):
    """Re-draw the tiny LM's weights wider, so greedy answers differ per prompt (the default init says
    "\\n")."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in vlm.lm.model.parameters():
            p.normal_(0, 0.5)
    return vlm


def test_batched_generation_with_images_equals_one_at_a_time(tiny_vlm):
    vlm = _spread(tiny_vlm)
    torch.manual_seed(1)
    images = [torch.randn(16, 320), None, torch.randn(16, 320)]
    questions = ["what?", "a much longer question without any image at all?", "which colour is it?"]
    prompts = vlm.prompts(questions, images)
    batched = generate(vlm.lm, prompts, max_new_tokens=6, batch_size=3)
    single = [generate(vlm.lm, [p], max_new_tokens=6, batch_size=1)[0] for p in prompts]
    assert batched == single
    assert len(set(batched)) == 3 and all(batched)


def test_class_scoring_with_an_image_equals_a_naive_full_forward(tiny_vlm):
    vlm = _spread(tiny_vlm, seed=2)
    torch.manual_seed(3)
    images = [torch.randn(16, 320), torch.randn(16, 320)]
    classes = ["cat", "dog", "red car", "cat food"]
    probs = vlm.score(images, classes, reduction="sum")
    naive = np.zeros((2, len(classes)))
    for i, img in enumerate(images):
        prompt = vlm.prompts(["What type of object is in the photo?"], [img])[0]
        for k, name in enumerate(classes):
            answer = vlm.lm.encode_answer(name)
            ids, mask = left_pad([prompt.ids + answer], vlm.lm.pad_id)
            with torch.inference_mode():
                logits = vlm.lm.model(inputs_embeds=vlm.lm.embed(ids, [img]), attention_mask=mask,
                                      position_ids=positions(mask)).logits[0].float()
            logp = torch.log_softmax(logits, -1)
            start = len(prompt.ids)
            naive[i, k] = sum(float(logp[start - 1 + j, t]) for j, t in enumerate(answer))
    want = np.exp(naive - naive.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    np.testing.assert_allclose(probs, want, atol=1e-4)


def test_tiny_hub_llava_runs_through_the_same_inference_code():
    from steervis.llava import VLM

    vlm = VLM.from_llava("tiny-llava")
    assert vlm.image_tokens == 16 and vlm.config.template == "chatml"
    images = [Image.new("RGB", (40, 30), "red"), Image.new("RGB", (30, 30), "blue")]
    probs = vlm.score(images, ["cat", "dog"])
    assert probs.shape == (2, 2) and np.allclose(probs.sum(1), 1)
    assert not np.allclose(probs[0], probs[1])  # the image reaches the LM
    inputs, questions = [*images, None], ["what?", "what is it?", "hello"]
    batched = vlm.ask(inputs, questions, max_new_tokens=4)
    single = [vlm.ask([img], [q], max_new_tokens=4)[0] for img, q in zip(inputs, questions, strict=True)]
    assert batched == single
    assert len(vlm.caption(images[:1], beams=1, samples=1, max_new_tokens=3)[0]) == 2


def test_bad_inputs_are_one_sentence(tiny_vlm, tmp_path):
    not_image = tmp_path / "notes.png"
    not_image.write_text("not an image")
    with pytest.raises(SteervisError, match="not an image"):
        tiny_vlm.caption([not_image])
    with pytest.raises(SteervisError, match="needs an image"):
        tiny_vlm.caption([None])
    with pytest.raises(SteervisError, match="no image was given"):
        tiny_vlm.chat("<image>\nwhat is this?")
    tiny_vlm.config.max_prompt_tokens = 64
    with pytest.raises(SteervisError, match="reads at most 64"):
        tiny_vlm.chat("word " * 80, torch.zeros(16, 320))


def test_llava_captioner_follows_the_captioner_contract():
    from steervis.llava.captioner import LlavaCaptioner
    from steervis.vllavo.describe.captioners import Captioner

    cap = LlavaCaptioner(model="tiny-llava", max_new_tokens=3)
    assert isinstance(cap, Captioner)
    out = cap.caption([Image.new("RGB", (32, 32), "green")] * 2, beams=1, samples=2)
    assert [len(c) for c in out] == [3, 3]


def test_easy_vqa_evaluation_runs_on_the_test_split(tiny_vlm):
    from steervis.llava.evaluate import easy_vqa_accuracy

    result = easy_vqa_accuracy(tiny_vlm, images=2, text_only=True)
    assert result["questions"] == 6 and 0 <= result["scored"] <= 1 and result["text_only"]


class _SaysRedCircle:
    """A VLM stand-in: every image is a red circle; yes/no asked stated is answered by comparing words."""

    config = type("Config", (), {"hub": False})()

    def __init__(self):
        self.questions = []

    def ask(self, visuals, questions, **_):
        from steervis.llava.easyvqa import STATED_SUFFIX

        self.questions += questions
        return [f"a red circle, so {'yes' if 'red' in q or 'circle' in q else 'no'}."
                if q.endswith(STATED_SUFFIX) else "red" for q in questions]


def test_stated_evaluation_asks_yes_no_for_the_shape_first_and_scores_the_last_yes_or_no():
    from steervis.llava import easyvqa
    from steervis.llava.evaluate import easy_vqa_accuracy

    vlm = _SaysRedCircle()
    result = easy_vqa_accuracy(vlm, images=8, per_image=None, text_only=True, scored=False, stated=True,
                               split="val")
    rows = easyvqa.rows("val", 8, None, 0)
    yes_no = [easyvqa.question_kind(q) == "yes/no" for _, q, _ in rows]
    assert [q.endswith(easyvqa.STATED_SUFFIX) for q in vlm.questions] == yes_no and any(yes_no)
    right = [("yes" if "red" in q or "circle" in q else "no") == gold  # what the stand-in's reply ends with
             for (_, q, gold), ask in zip(rows, yes_no, strict=True) if ask]
    assert result["stated_yes_no"] and result["by_kind"]["yes/no"]["accuracy"] == pytest.approx(
        sum(right) / len(right), abs=1e-4)
    assert result["examples"][0]["answer"] in ("red", "a red circle, so yes.", "a red circle, so no.")
