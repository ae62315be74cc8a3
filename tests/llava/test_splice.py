import pytest
import torch

from steervis.errors import SteervisError
from steervis.llava.conversation import TEMPLATES, encode_turns
from steervis.llava.splice import place


def test_visual_tokens_land_exactly_at_the_placeholder_positions(tiny_vlm):
    feats = torch.randn(16, 320)
    prompt = tiny_vlm.conversation([("What is it?", None)], feats)
    ids = torch.tensor([prompt.ids])
    slots = (ids[0] == tiny_vlm.image_id).nonzero().squeeze(1)
    assert len(slots) == 16 and slots.tolist() == list(range(int(slots[0]), int(slots[0]) + 16))
    text_only = tiny_vlm.lm.embed(ids)
    spliced = tiny_vlm.lm.embed(ids, [feats])
    projected = tiny_vlm.lm.splicer.projector(feats)
    torch.testing.assert_close(spliced[0, slots], projected)
    others = torch.ones(ids.shape[1], dtype=torch.bool)
    others[slots] = False
    torch.testing.assert_close(spliced[0, others], text_only[0, others])


def test_rows_without_image_are_unchanged_and_mismatches_are_one_sentence():
    embeds, ids = torch.zeros(2, 5, 3), torch.tensor([[1, 7, 7, 2, 3], [1, 2, 3, 4, 5]])
    out = place(embeds, ids, 7, [torch.ones(2, 3), None])
    assert out[0, 1:3].eq(1).all() and out[0, [0, 3, 4]].eq(0).all() and out[1].eq(0).all()
    with pytest.raises(SteervisError, match="exactly one <image>"):
        place(embeds, ids, 7, [torch.ones(3, 3), None])
    with pytest.raises(SteervisError, match="no image was given"):
        place(embeds, ids, 7, [None, None])


def test_answer_only_targets_in_a_packed_conversation(tiny_vlm):
    tok = tiny_vlm.lm.tokenizer
    turns = [("<image>\nwhat color?", "red"), ("what shape?", "circle")]
    ids, targets = encode_turns(tok, TEMPLATES["chatml"], turns, 16, tiny_vlm.image_id)
    learnt = tok.decode([t for t in targets if t != -100])
    assert learnt == "red<|im_end|>circle<|im_end|>"
    assert ids.count(tiny_vlm.image_id) == 16
