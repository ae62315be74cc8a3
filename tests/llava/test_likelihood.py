"""Answering by likelihood: each candidate's log-prob equals a full forward of the conversation as training
encodes it (answer targets only), either case added, and the pick is the likeliest candidate."""

import numpy as np
import pytest
import torch

from steervis.errors import SteervisError
from steervis.llava.conversation import encode_turns, template
from steervis.llava.likelihood import answer_logprobs, choose, reply_ids
from steervis.lm.batch import IGNORE


def _widened(vlm):
    torch.manual_seed(0)
    with torch.no_grad():  # wider weights: candidates and images visibly move the scores
        for p in vlm.lm.model.parameters():
            p.normal_(0, 0.5)
    return vlm


@torch.no_grad()
def _full_forward(vlm, question, image, answer):
    """Summed log-prob of ``answer``'s learnt tokens (closing marker in), the conversation encoded whole."""
    user = f"<image>\n{question}" if image is not None else question
    ids, targets = encode_turns(vlm.lm.tokenizer, template(vlm.config.template), [(user, answer)],
                                vlm.image_tokens, vlm.image_id)
    ids_t = torch.tensor([ids])
    embeds = vlm.lm.embed(ids_t, [image])
    logits = vlm.lm.model(inputs_embeds=embeds).logits[0].float().log_softmax(-1)
    return sum(float(logits[i - 1, t]) for i, t in enumerate(targets) if t != IGNORE)


def test_each_candidate_scores_as_its_whole_reply_in_either_case_and_the_likeliest_is_picked(tiny_vlm):
    vlm = _widened(tiny_vlm)
    images = [torch.randn(16, 320), None]
    questions = ["Is the shape red?", "The image shows a red circle. Is it?"]
    answers = ["yes", "no", "teal"]
    ours = answer_logprobs(vlm, images, questions, answers)
    for i, (img, q) in enumerate(zip(images, questions, strict=True)):
        for k, a in enumerate(answers):
            cased = [_full_forward(vlm, q, img, form) for form in (a, a.capitalize())]
            assert ours[i, k] == pytest.approx(float(np.logaddexp.reduce(cased)), abs=1e-3)
    assert np.abs(ours[0] - ours[1]).max() > 1e-3  # the two prompts are scored apart
    picked = choose(vlm, images, questions, [answers, answers])
    assert picked == [answers[k] for k in ours.argmax(axis=1)]


def test_questions_with_other_candidates_are_scored_with_their_own(tiny_vlm):
    vlm = _widened(tiny_vlm)
    questions = ["What color is it?", "Is it round?", "What shape is it?"]
    candidates = [("red", "blue"), ("yes", "no"), ("circle", "triangle", "rectangle")]
    picked = choose(vlm, [None] * 3, questions, candidates)
    for q, cands, pick in zip(questions, candidates, picked, strict=True):
        alone = answer_logprobs(vlm, [None], [q], list(cands))[0]
        assert pick == cands[int(alone.argmax())]
    with pytest.raises(SteervisError, match="as many"):
        choose(vlm, [None], questions, candidates)


def test_the_opening_is_the_whole_reply_without_its_closing_marker(tiny_vlm):
    whole, opening = reply_ids(tiny_vlm, "yes"), reply_ids(tiny_vlm, "yes", whole=False)
    assert len(opening) < len(whole) and whole[: len(opening)] == opening
