"""The LM core's chat formatter: the tokenizer's template, explicit formats, answer-only targets, markers."""

import copy

import pytest

from steervis.errors import SteervisError
from steervis.lm.batch import IGNORE
from steervis.lm.chat import (
    CHAT_FORMATS,
    CHAT_TEMPLATE,
    ChatFormat,
    chat_format,
    chat_segments,
    encode_chat,
    render_chat,
    template_or,
)
from steervis.zoo.embedded import smollm2_tokenizer

TURNS = [("What colour?", "red"), ("What shape?", "a circle"), ("And its size?", None)]


@pytest.fixture(scope="module")
def tok():
    return smollm2_tokenizer()


@pytest.fixture(scope="module")
def bare(tok):
    """The same tokenizer without a chat template, as a tiny test tokenizer may be."""
    out = copy.deepcopy(tok)
    out.chat_template = None
    return out


def learnt(tok, targets):
    return tok.decode([t for t in targets if t != IGNORE])


def test_template_prompt_is_the_tokenizers_own_with_its_default_system_prompt(tok):
    messages = [{"role": "user", "content": "Hi"}]
    expected = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert render_chat(tok, CHAT_TEMPLATE, [("Hi", None)]) == expected
    assert "named SmolLM" in expected
    ids, targets = encode_chat(tok, CHAT_TEMPLATE, [("Hi", None)])
    assert ids == tok(expected, add_special_tokens=False).input_ids and set(targets) == {IGNORE}


def test_template_conversation_matches_the_template_and_learns_the_answers(tok):
    messages = [{"role": r, "content": c} for u, a in TURNS for r, c in (("user", u), ("assistant", a)) if c]
    assert render_chat(tok, CHAT_TEMPLATE, TURNS) == tok.apply_chat_template(messages, tokenize=False,
                                                                     add_generation_prompt=True)
    _, targets = encode_chat(tok, CHAT_TEMPLATE, TURNS)
    assert learnt(tok, targets) == "red<|im_end|>a circle<|im_end|>"


def test_chatml_is_the_template_without_its_default_system_prompt(tok):
    for system in ("Answer briefly.", None):
        explicit = encode_chat(tok, CHAT_FORMATS["chatml"], TURNS, system=system)
        if system:
            assert explicit == encode_chat(tok, CHAT_TEMPLATE, TURNS, system=system)
        else:
            assert "SmolLM" not in tok.decode(explicit[0])
            assert "SmolLM" in render_chat(tok, CHAT_TEMPLATE, TURNS)
    full = render_chat(tok, CHAT_TEMPLATE, TURNS)
    assert full.endswith(render_chat(tok, CHAT_FORMATS["chatml"], TURNS))


def test_explicit_pieces_are_tokenized_on_their_own_with_markers_expanded(tok):
    turns = [("<image>\nwhat colour?", "red"), ("what shape?", None)]
    ids, targets = encode_chat(tok, CHAT_FORMATS["chatml"], turns, markers={"<image>": [7] * 3})
    pieces = chat_segments(tok, CHAT_FORMATS["chatml"], turns)
    cue = "<|im_end|>\n<|im_start|>assistant\n"
    assert [text for text, _ in pieces] == [f"<|im_start|>user\n<image>\nwhat colour?{cue}", "red<|im_end|>",
                                             "\n", f"<|im_start|>user\nwhat shape?{cue}"]
    assert [learn for _, learn in pieces] == [False, True, False, False]
    assert ids.count(7) == 3 and learnt(tok, targets) == "red<|im_end|>"
    assert len(ids) == len(targets)
    plain, _ = encode_chat(tok, CHAT_FORMATS["chatml"], turns)  # without markers the text stays text
    assert 7 not in plain and tok.decode(plain).count("<image>") == 1


def test_vicuna_writes_its_system_prompt_and_a_space_before_answers(tok):
    text = render_chat(tok, CHAT_FORMATS["vicuna"], [("Hi", "hello")])
    assert text == (CHAT_FORMATS["vicuna"].default_system + " USER: Hi ASSISTANT: hello" + tok.eos_token)
    assert render_chat(tok, CHAT_FORMATS["vicuna"], [("Hi", None)], system="").startswith("USER: Hi")
    plain = render_chat(tok, CHAT_FORMATS["plain"], [("<image>\n", "a cat")])
    assert plain == "<image>\na cat" + tok.eos_token


def test_a_tokenizer_without_template_needs_an_explicit_format(bare):
    fallback = ChatFormat("line", user="{text}\n")
    assert template_or(bare, fallback) is fallback
    assert template_or(smollm2_tokenizer(), fallback) is CHAT_TEMPLATE
    assert render_chat(bare, fallback, [("Hi", None)]) == "Hi\n"
    with pytest.raises(SteervisError, match="no chat template"):
        render_chat(bare, CHAT_TEMPLATE, [("Hi", None)])


def test_mistakes_are_one_sentence(tok):
    with pytest.raises(SteervisError, match="Only the last turn"):
        encode_chat(tok, CHAT_FORMATS["chatml"], [("a", None), ("b", None)])
    with pytest.raises(SteervisError, match="has no system turn"):
        render_chat(tok, CHAT_FORMATS["plain"], [("a", None)], system="Be brief.")
    with pytest.raises(SteervisError, match="Unknown chat format 'alpaca'"):
        chat_format("alpaca")
    assert chat_format("chatml") is CHAT_FORMATS["chatml"]
