"""Prompts: phrases and their character spans, GLIP's positive map over tokens, chunks, bad prompts."""

from __future__ import annotations

import pytest
import torch

from steervis.errors import SteervisError
from steervis.ground.prompts import (
    MAX_PHRASES,
    chunk_phrases,
    encode_phrases,
    join_phrases,
    parse_prompt,
    split_phrases,
)
from steervis.zoo.tiny import bert_tokenizer


def test_phrases_keep_their_spans_in_the_text_the_encoder_reads():
    text, phrases = join_phrases(split_phrases(" a dog.a guitar .. lemon. a dog."))
    assert text == "a dog. a guitar. lemon."
    assert [text[p.start : p.end] for p in phrases] == ["a dog", "a guitar", "lemon"]


def test_the_positive_map_covers_each_phrases_tokens_not_one_pooled_vector():
    tok = bert_tokenizer()
    enc = encode_phrases(tok, ["red box", "green", "a blue thing"])
    tokens = tok.convert_ids_to_tokens(enc.input_ids[0])
    assert tokens == ["[CLS]", "red", "box", ".", "green", ".", "a", "blue", "thing", ".", "[SEP]"]
    rows = [[tokens[i] for i in torch.nonzero(row).flatten()] for row in enc.positive]
    assert rows == [["red", "box"], ["green"], ["a", "blue", "thing"]]
    assert torch.allclose(enc.positive.sum(1), torch.ones(3))  # a phrase's score is its tokens' mean
    assert enc.positive[:, [0, 3, 5, 9, 10]].abs().sum() == 0  # [CLS], full stops and [SEP] belong to none


def test_a_word_split_into_pieces_keeps_every_piece():
    tok = bert_tokenizer()
    enc = encode_phrases(tok, ["xylophonist"])
    pieces = tok.tokenize("xylophonist")
    assert len(pieces) > 1 and int((enc.positive[0] > 0).sum()) == len(pieces)


def test_long_prompts_are_cut_into_chunks_of_phrases():
    phrases = [f"thing {i}" for i in range(500)]
    chunks = chunk_phrases(phrases, size=16)
    assert [len(c) for c in chunks] == [16] * 31 + [4]
    assert [p for c in chunks for p in c] == phrases


def test_a_phrase_cut_off_by_the_encoder_window_is_one_sentence():
    with pytest.raises(SteervisError, match="cut off"):
        encode_phrases(bert_tokenizer(), [f"thing {i}" for i in range(100)], max_length=32)


@pytest.mark.parametrize(("prompt", "says"), [
    ("", "names nothing"), (" . .. ", "names nothing"), (None, "not NoneType"),
    (". ".join(f"p{i}" for i in range(MAX_PHRASES + 1)), "at most"), ("x" * 500, "characters long"),
])
def test_bad_prompts_are_one_sentence(prompt, says):
    with pytest.raises(SteervisError, match=says):
        parse_prompt(prompt)
