"""Conversation templates: the ids trained models were taught on stay the ids they are asked with."""

import pytest

from steervis.errors import SteervisError
from steervis.llava.conversation import TEMPLATES, answer_ids, encode_turns, template
from steervis.lm.chat import CHAT_TEMPLATE, encode_chat
from steervis.zoo.embedded import smollm2_tokenizer

N = -100  # not learnt
# Pinned ids (SmolLM2's tokenizer, 2 image placeholders of id 0): a change here changes what every trained
# LLaVA (stage 1 plain, stage 2 chatml) and the hub Llava (vicuna) read.
PINNED = {
    "chatml": ([("<image>\nWhat colour?", "red"), ("Shape?", None)],
               [1, 4093, 198, 0, 0, 198, 1780, 7302, 47, 2, 198, 1, 520, 9531, 198, 455, 2, 198, 1, 4093, 198,
                31266, 47, 2, 198, 1, 520, 9531, 198],
               [N] * 15 + [455, 2] + [N] * 12),
    "plain": ([("<image>\n", "a red circle.")], [0, 0, 198, 81, 2382, 7842, 30, 2],
              [N] * 3 + [81, 2382, 7842, 30, 2]),
    "vicuna": ([("<image>\nWhat colour?", "red")],
               [49, 11743, 826, 253, 7436, 1205, 284, 354, 6416, 5290, 11173, 30, 378, 11173, 3894, 5356,
                28, 5861, 28, 284, 26310, 5360, 288, 260, 1205, 506, 2029, 30, 216, 23824, 42, 216, 0, 0, 198,
                1780, 7302, 47, 40800, 9814, 17321, 42, 2382, 2],
               [N] * 42 + [2382, 2]),
}


@pytest.fixture(scope="module")
def tok():
    return smollm2_tokenizer()


@pytest.mark.parametrize("name", sorted(PINNED))
def test_templates_give_the_pinned_ids(name, tok):
    turns, ids, targets = PINNED[name]
    assert encode_turns(tok, TEMPLATES[name], turns, 2, 0) == (ids, targets)


def test_chatml_skips_the_default_system_prompt_the_tokenizers_template_writes(tok):
    turns = [("<image>\nWhat colour?", "red")]
    ours, _ = encode_turns(tok, template("chatml"), turns, 2, 0)
    theirs, _ = encode_chat(tok, CHAT_TEMPLATE, turns, markers={"<image>": [0, 0]})
    assert theirs[-len(ours):] == ours and "SmolLM" in tok.decode(theirs[: -len(ours)])


def test_answers_end_with_the_closing_marker_and_unknown_templates_are_refused(tok):
    assert tok.decode(answer_ids(tok, template("chatml"), "red")) == "red<|im_end|>"
    assert tok.decode(answer_ids(tok, template("vicuna"), "red")) == " red" + tok.eos_token
    with pytest.raises(SteervisError, match="Unknown conversation template 'alpaca'"):
        template("alpaca")
