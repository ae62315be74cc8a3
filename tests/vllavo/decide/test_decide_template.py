"""The instruction template: golden snapshots, seeded option order, truncation, the prompt/answer boundary."""

import logging
import os
from pathlib import Path

import pytest

from steervis.errors import SteervisError
from steervis.lm.chat import CHAT_TEMPLATE
from steervis.vllavo.decide.template import VLLAVO_QUESTION, PromptBuilder, option_order
from steervis.zoo.embedded import smollm2_tokenizer

GOLDEN = Path(__file__).parent / "golden"
DESCRIPTION = ("Tags:\n- golden retriever\n- grass\nAttributes:\n- furry\n- four-legged\n"
               "Captions:\n- a dog sitting on the lawn")
CLASSES = ["cat", "dog", "elephant", "ice cream", "t-shirt"]


@pytest.fixture(scope="module")
def tok():
    return smollm2_tokenizer()


@pytest.mark.parametrize("kind", ["vllavo", "chat"])
def test_rendered_prompt_matches_golden_snapshot(kind, tok):
    prompt = PromptBuilder(kind=kind, tokenizer=tok, seed=0).build([DESCRIPTION], CLASSES)[0]
    golden = GOLDEN / f"prompt_{kind}.txt"
    if os.environ.get("STEERVIS_UPDATE_GOLDEN"):  # regenerate on purpose, then review the diff
        golden.write_text(prompt)
    assert prompt == golden.read_text()


def test_vllavo_prompt_text_is_the_papers_template():
    prompt = PromptBuilder(shuffle=False).build(["D"], ["a", "b"])[0]
    assert prompt == ("Give the information about an image:\nD\nAccording to the information, choose the "
                      "most similar category from the given options: a, b.\n### Answer:")


def test_chat_variant_is_the_tokenizers_template_written_by_the_lm_core(tok):
    builder = PromptBuilder(kind="chat", tokenizer=tok, shuffle=False)
    question = VLLAVO_QUESTION.format(description="D", options="a, b")
    expected = tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                       add_generation_prompt=True)
    assert builder.format is CHAT_TEMPLATE and builder.build(["D"], ["a", "b"])[0] == expected
    assert (builder.answer("dog"), PromptBuilder().answer("dog")) == ("dog", " dog")


def test_option_order_is_seeded_per_example_and_keeps_every_class():
    a = option_order(CLASSES, "one", seed=0)
    assert sorted(a) == sorted(CLASSES)
    assert a == option_order(CLASSES, "one", seed=0)
    orders = {tuple(option_order(CLASSES, f"text {i}", seed=0)) for i in range(20)}
    assert len(orders) > 5  # positions vary, so the model cannot learn "the second option"
    builder = PromptBuilder(seed=0)
    assert len({builder.build(["x"], CLASSES, epoch=e)[0] for e in range(5)}) > 1  # re-shuffled per epoch


@pytest.mark.parametrize("kind", ["vllavo", "chat"])
def test_prompt_plus_answer_tokens_equal_tokenizing_the_whole(kind, tok):
    builder = PromptBuilder(kind=kind, tokenizer=tok)
    for prompt in builder.build([DESCRIPTION, "Tags:\n- x"], CLASSES):
        p = tok(prompt, add_special_tokens=builder.add_special_tokens).input_ids
        for c in CLASSES:
            a = tok(builder.answer(c), add_special_tokens=False).input_ids
            whole = tok(prompt + builder.answer(c), add_special_tokens=builder.add_special_tokens).input_ids
            assert p + a == whole


def test_long_description_is_truncated_not_the_options_and_warned_once(tok, caplog):
    builder = PromptBuilder(tokenizer=tok, max_length=96, shuffle=False)
    long = "Tags:\n" + "\n".join(f"- word{i}" for i in range(300))
    with caplog.at_level(logging.WARNING, logger="steervis.vllavo.decide.template"):
        prompts = builder.build([long, long], CLASSES)
    assert sum("truncated" in r.message for r in caplog.records) == 1
    for prompt in prompts:
        assert prompt.endswith("options: cat, dog, elephant, ice cream, t-shirt.\n### Answer:")
        assert len(tok(prompt).input_ids) + 4 <= 96
    assert builder.build(["short"], CLASSES)[0].count("short") == 1


def test_no_room_for_any_description_is_a_clear_error(tok):
    with pytest.raises(SteervisError, match="raise max_length or use fewer classes"):
        PromptBuilder(tokenizer=tok, max_length=64).build(["d"], [f"class number {i}" for i in range(40)])


def test_empty_class_list_and_unknown_template():
    with pytest.raises(SteervisError, match="class list is empty"):
        PromptBuilder().build(["d"], [])
    with pytest.raises(SteervisError, match="Unknown template"):
        PromptBuilder(kind="alpaca")
