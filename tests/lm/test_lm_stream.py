"""TextStream: the pieces of a streamed answer add up to what generate writes, stop ends it early, and an
error on the worker thread reaches the reader."""

from __future__ import annotations

import pytest

from steervis import zoo
from steervis.lm.generate import generate
from steervis.lm.model import LanguageModel
from steervis.lm.stream import TextStream


@pytest.fixture(scope="module")
def lm():
    return LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))


def test_pieces_add_up_to_the_greedy_answer_one_token_at_a_time(lm):
    prompt = lm.prompt("Describe the picture")
    stream = TextStream(lm, prompt, max_new_tokens=12)
    pieces = list(stream)
    assert "".join(pieces) == generate(lm, [prompt], max_new_tokens=12)[0]
    assert stream.tokens == 12 and len(pieces) >= 3 and not stream.stopped.is_set()


def test_sampling_is_seeded_and_temperature_changes_the_answer(lm):
    prompt = lm.prompt("Hello")
    hot = ["".join(TextStream(lm, prompt, 16, temperature=1.5, seed=s)) for s in (1, 1, 2)]
    greedy = "".join(TextStream(lm, prompt, 16))
    assert hot[0] == hot[1] and hot[0] != hot[2] and greedy not in hot


def test_stop_ends_the_answer_after_the_token_in_flight(lm):
    stream = TextStream(lm, lm.prompt("Hello"), max_new_tokens=200)
    pieces = []
    for piece in stream:
        pieces.append(piece)
        if len(pieces) == 2:
            stream.stop()
    assert stream.stopped.is_set() and stream.tokens <= 4 and len(pieces) <= 4


def test_a_reader_that_leaves_early_ends_the_generation(lm):
    stream = TextStream(lm, lm.prompt("Hello"), max_new_tokens=500)
    for _ in stream:
        break  # the generator closes: its worker must end, not write 500 tokens into a queue nobody reads
    assert stream.stopped.is_set() and stream.tokens < 10  # closing the reader joined the stopped worker


def test_an_error_while_generating_is_raised_to_the_reader(lm):
    class Broken:
        def __getattr__(self, name):
            return getattr(lm, name)

        def embed(self, *args, **kwargs):
            raise RuntimeError("the embedding layer broke")

    with pytest.raises(RuntimeError, match="embedding layer broke"):
        list(TextStream(Broken(), lm.prompt("Hello"), max_new_tokens=5))


def test_min_new_tokens_keeps_an_answer_going_past_its_end_of_text(lm):
    import copy

    prompt = lm.prompt("Describe the picture")
    first = lm.model.generate(inputs_embeds=lm.embed(*_one(lm, prompt)), max_new_tokens=1,
                              do_sample=False, pad_token_id=lm.pad_id)[0, -1].item()
    ends = copy.copy(lm)
    ends.tokenizer = _EndsAt(lm.tokenizer, first)  # the greedy first token now ends the answer
    short, long = TextStream(ends, prompt, 12), TextStream(ends, prompt, 12, min_new_tokens=6)
    list(short), list(long)
    assert short.tokens == 1 and long.tokens >= 6


class _EndsAt:
    """A tokenizer whose end-of-text token is ``eos``."""

    def __init__(self, tokenizer, eos):
        self._tokenizer, self.eos_token_id = tokenizer, eos

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)


def _one(lm, prompt):
    from steervis.lm.batch import left_pad

    ids, _ = left_pad([prompt.ids], lm.pad_id, device=lm.device)
    return ids, [prompt.image]
