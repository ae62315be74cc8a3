"""The think/answer format is parsed strictly, and answers are verified by their kind's rule."""

from __future__ import annotations

import pytest

from steervis.errors import SteervisError
from steervis.thinker.answers import chain_text, numbers, parse, verified


@pytest.mark.parametrize("text", [
    "<think>3 apples, 1 dog.</think><answer>2</answer>",
    "  <think>\nstep one\nstep two\n</think>\n\n<answer> yes </answer>\n",
    chain_text("The moon covers 3000 px.", "the moon"),
])
def test_the_format_is_accepted(text):
    parsed = parse(text)
    assert parsed is not None and parsed.think and parsed.answer == parsed.answer.strip()


@pytest.mark.parametrize("text", [
    "2",  # no tags at all
    "<answer>2</answer>",  # no thinking
    "<answer>2</answer><think>because</think>",  # the wrong order
    "<think></think><answer>2</answer>",  # nothing thought
    "<think>so</think><answer> </answer>",  # nothing answered
    "<think>so</think><answer>2</answer> Also 3.",  # text after the answer
    "Sure! <think>so</think><answer>2</answer>",  # text before the thinking
    "<think>so <answer>3</answer></think><answer>2</answer>",  # a tag inside the thinking
    "<think>so</think><answer>2</answer><answer>3</answer>",  # two answers
    "<think>so</think><answer>2",  # cut off before its closing tag
])
def test_anything_else_is_refused(text):
    assert parse(text) is None


def test_numbers_are_digits_or_words_and_only_one_may_be_stated():
    assert numbers("Three apples, 2 dogs and ten stars") == {3, 2, 10}
    assert verified("3", "number", "3") and verified("three", "number", "3")
    assert verified("There are 3 apples.", "number", "3") and verified("Two.", "number", "2")
    assert not verified("4", "number", "3") and not verified("3 or 4", "number", "3")
    assert not verified("none", "number", "0") and verified("zero", "number", "0")
    assert not verified("someone", "number", "1")  # "one" inside a word is no number


def test_yes_no_must_say_exactly_one():
    assert verified("Yes", "yesno", "yes") and verified("no, there are fewer.", "yesno", "no")
    assert not verified("yes", "yesno", "no") and not verified("yes and no", "yesno", "yes")
    assert not verified("maybe", "yesno", "yes") and not verified("yesterday", "yesno", "yes")


def test_a_name_must_name_the_truth_and_not_the_other_option():
    options = ["dog", "moon"]
    assert verified("the moon", "name", "moon", options) and verified("Moons.", "name", "moon", options)
    assert not verified("the dog", "name", "moon", options)
    assert not verified("the moon, not the dog", "name", "moon", options)  # naming both is no choice
    assert not verified("the moonlight", "name", "moon", options)  # a whole word only
    with pytest.raises(SteervisError, match="Unknown answer kind"):
        verified("2", "colour", "red")
