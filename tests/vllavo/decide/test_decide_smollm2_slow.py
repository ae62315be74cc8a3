"""Real weights: smollm2-135m-instruct scores and learns a handful of descriptions (marked slow)."""

import numpy as np
import pytest

from steervis.lm.batch import Prompt
from steervis.lm.model import LanguageModel
from steervis.lm.scoring import loglik
from steervis.vllavo.decide.config import DecideConfig, TrainSettings
from steervis.vllavo.decide.decider import Decider
from steervis.zoo.embedded import smollm2_ready

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not smollm2_ready(), reason="smollm2 not prepared (run `steervis setup`)")]

TEXTS = ["Tags:\n- tabby cat\n- kitten\nAttributes:\n- furry\n- whiskers",
         "Tags:\n- sports car\n- wheel\nAttributes:\n- metal\n- four wheels",
         "Tags:\n- banana\nAttributes:\n- yellow\n- curved fruit",
         "Tags:\n- persian cat\nAttributes:\n- fluffy\n- pointed ears",
         "Tags:\n- pickup truck\n- tyre\nAttributes:\n- metal\n- headlights",
         "Tags:\n- plantain\nAttributes:\n- yellow peel\n- sweet"]
LABELS = ["cat", "car", "banana", "cat", "car", "banana"]
CLASSES = ["banana", "car", "cat"]


@pytest.fixture(scope="module")
def decider():
    return Decider(DecideConfig(train=TrainSettings(epochs=12, batch_size=6, lr=2e-3)))


def test_kv_cache_scoring_equals_full_sequence_with_real_weights(decider):
    import torch

    lm: LanguageModel = decider.lm
    decider.set_classes(CLASSES)
    prompts = decider.builder.build(TEXTS[:2], CLASSES)
    answers = [decider.builder.answer(c) for c in CLASSES]
    sums, _ = loglik(lm, [Prompt(lm.encode(p)) for p in prompts], answers)
    for i, p in enumerate(prompts):
        for j, a in enumerate(answers):
            pi, ai = lm.encode(p), lm.encode_answer(a)
            with torch.no_grad():
                logp = torch.log_softmax(lm.model(torch.tensor([pi + ai])).logits[0].float(), -1)
            ref = sum(logp[len(pi) - 1 + t, tok].item() for t, tok in enumerate(ai))
            assert abs(sums[i, j] - ref) < 1e-3


def test_zero_shot_then_finetuned_on_obvious_descriptions(decider):
    decider.set_classes(CLASSES)
    zero = decider.predict_proba(TEXTS)
    assert np.allclose(zero.sum(1), 1, atol=1e-5)
    result = decider.fit(TEXTS, LABELS, CLASSES, progress=False)
    assert np.mean(result.losses[-1:]) < result.losses[0]
    probs = decider.predict_proba(TEXTS)
    assert (probs.argmax(1) == [CLASSES.index(c) for c in LABELS]).mean() >= 5 / 6
    _, snapped = decider.generate(TEXTS[:2])
    assert snapped.tolist() == [CLASSES.index(c) for c in LABELS[:2]]
