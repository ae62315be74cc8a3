"""Class scoring over the KV cache equals naive full-sequence scoring; generation snaps to a class."""

import numpy as np
import pytest
import torch

from steervis import zoo
from steervis.decide.lm import LanguageModel, levenshtein, snap_to_class
from steervis.errors import SteervisError

PROMPTS = ["Give the information:\nTags:\n- dog\n### Answer:", "short\n### Answer:",
           "a much longer prompt, with many more words in it than the others have\n### Answer:", "x\n### Answer:"]
ANSWERS = [" cat", " ice cream", " t-shirt", " dog", " a b c d e"]


@pytest.fixture(scope="module")
def causal_lm():
    return zoo.load("tiny-llama", kind="causal-lm")


def naive_loglik(lm: LanguageModel, prompt: str, answer: str) -> float:
    """The reference: prompt + answer as one sequence, no cache, sum of the answer's token log-probs."""
    p, a = lm.encode_prompt(prompt), lm.encode_answer(answer)
    with torch.no_grad():
        logp = torch.log_softmax(lm.model(torch.tensor([p + a])).logits[0].float(), -1)
    return sum(logp[len(p) - 1 + j, t].item() for j, t in enumerate(a))


@pytest.mark.parametrize(("batch_size", "max_rows"), [(1, 64), (3, 64), (8, 4)])  # 4 rows: answers chunked
def test_kv_cache_scoring_equals_naive_full_sequence_scoring(causal_lm, batch_size, max_rows):
    lm = LanguageModel(causal_lm, batch_size=batch_size, max_rows=max_rows)
    sums, lengths = lm.loglik(PROMPTS, ANSWERS)
    reference = np.array([[naive_loglik(lm, p, a) for a in ANSWERS] for p in PROMPTS])
    np.testing.assert_allclose(sums, reference, atol=1e-4)
    assert lengths.tolist() == [len(lm.encode_answer(a)) for a in ANSWERS]
    assert lm.encode_answer(" cat")[-1] == lm.tokenizer.eos_token_id


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_score_rows_are_probability_vectors(causal_lm, reduction):
    lm = LanguageModel(causal_lm)
    probs = lm.score(PROMPTS, ANSWERS, reduction=reduction)
    assert probs.shape == (len(PROMPTS), len(ANSWERS))
    assert np.all(probs >= 0) and np.allclose(probs.sum(1), 1, atol=1e-5)
    sums, lengths = lm.loglik(PROMPTS, ANSWERS)
    expected = (sums / lengths if reduction == "mean" else sums).argmax(1)
    assert probs.argmax(1).tolist() == expected.tolist()


def test_score_input_errors(causal_lm):
    lm = LanguageModel(causal_lm)
    assert lm.score([], ANSWERS).shape == (0, len(ANSWERS))
    with pytest.raises(SteervisError, match="class list is empty"):
        lm.score(PROMPTS, [])
    with pytest.raises(SteervisError, match="reduction"):
        lm.score(PROMPTS, ANSWERS, reduction="max")


def test_generate_gives_text_that_snaps_to_a_class(causal_lm):
    lm = LanguageModel(causal_lm, batch_size=2)
    texts = lm.generate(PROMPTS[:3], beams=2, max_new_tokens=4)
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    classes = ["cat", "dog"]
    assert all(snap_to_class(t, classes) in (0, 1) for t in texts)


def test_snap_to_class_and_levenshtein():
    classes = ["ice", "ice cream", "dog", "t-shirt"]
    assert levenshtein("kitten", "sitting") == 3 and levenshtein("", "abc") == 3
    assert snap_to_class(" Dogg.", classes) == 2
    assert snap_to_class("I think it is ice cream.", classes) == 1  # longest class named verbatim wins
    assert snap_to_class("tshirt", classes) == 3
    assert snap_to_class("", classes) in range(4)
