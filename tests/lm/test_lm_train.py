"""The core trainer: answer-only loss equals the label-masked reference, several answer spans, exact
resume."""

import numpy as np
import pytest
import torch

from steervis import zoo
from steervis.lm.adapters import add_lora
from steervis.lm.batch import IGNORE, Example, collate_examples
from steervis.lm.config import LoraSettings, TrainSettings
from steervis.lm.model import LanguageModel
from steervis.lm.train import CHECKPOINT_FILE, _Trainable, shard, train


def tiny_lm(seed: int = 0) -> LanguageModel:
    lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
    lm.model = add_lora(lm.model, LoraSettings(dropout=0.0), seed=seed)
    return lm


def examples(lm: LanguageModel) -> list[Example]:
    pairs = [("Tags:\n- fur\n### Answer:", " cat"), ("a longer prompt here\n### Answer:", " ice cream"),
             ("x\n### Answer:", " t-shirt"), ("wheels\n### Answer:", " car"), ("bark\n### Answer:", " dog")]
    return [Example.from_prompt_answer(lm.encode(p), lm.encode_answer(a)) for p, a in pairs]


def reference_loss(lm: LanguageModel, exs: list[Example]) -> float:
    """One unpadded row at a time through the model's own label-masked loss, token-weighted."""
    total, count = 0.0, 0
    for ex in exs:
        n = ex.answer_tokens
        out = lm.model(input_ids=torch.tensor([ex.ids]), labels=torch.tensor([ex.targets]))
        total, count = total + out.loss.item() * n, count + n
    return total / count


def test_answer_loss_on_the_last_logits_equals_the_full_label_masked_loss():
    lm = tiny_lm()
    exs = examples(lm)
    # a multi-turn example: two answer spans, the first one in the middle
    mid = Example(exs[0].ids + exs[1].ids, exs[0].targets + exs[1].targets)
    for batch in (exs, exs[:2] + [mid]):
        with torch.no_grad():
            tokens = sum(e.answer_tokens for e in batch)
            fast, _ = _Trainable(lm)(collate_examples(batch, lm.pad_id), tokens)
        assert abs(fast.item() - reference_loss(lm, batch)) < 1e-4


def test_collate_left_pads_targets_with_ignore():
    batch = collate_examples([Example.from_prompt_answer([1, 2], [3]),
                              Example.from_prompt_answer([4], [5])], 0)
    assert batch["targets"].tolist() == [[IGNORE, IGNORE, 3], [IGNORE, IGNORE, 5]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [0, 1, 1]]


def test_shards_partition_a_batch_and_small_batches_go_whole():
    assert shard([1, 2, 3, 4, 5], 0, 2) + shard([1, 2, 3, 4, 5], 1, 2) == [1, 2, 3, 4, 5]
    assert shard([7], 1, 2) == [7]


def test_training_lowers_the_loss_and_is_seeded():
    settings = TrainSettings(epochs=6, batch_size=2, lr=5e-3, seed=3)
    runs = []
    for _ in range(2):
        lm = tiny_lm()
        runs.append(train(lm, lambda epoch, lm=lm: examples(lm), settings, progress=False))
    assert runs[0].losses == runs[1].losses
    assert np.mean(runs[0].losses[-3:]) < np.mean(runs[0].losses[:3])
    assert runs[0].steps == 6 * 3 and runs[0].processes == 1


def test_killed_training_resumes_to_the_uninterrupted_weights(tmp_path):
    settings = TrainSettings(epochs=3, batch_size=2, lr=5e-3, checkpoint_every=2)
    full_lm = tiny_lm()
    full = train(full_lm, lambda e: examples(full_lm), settings, progress=False)

    class Killed(Exception):
        pass

    lm = tiny_lm()
    calls = {"n": 0}

    def dying(epoch):  # the run dies when epoch 2's data is asked for: checkpoint at step 6 exists
        calls["n"] += 1
        if epoch == 2 and calls["n"] < 4:
            raise Killed
        return examples(lm)

    with pytest.raises(Killed):
        train(lm, dying, settings, progress=False, checkpoint=tmp_path)
    assert (tmp_path / CHECKPOINT_FILE).exists()
    resumed_lm = tiny_lm()
    resumed = train(resumed_lm, lambda e: examples(resumed_lm), settings, progress=False, checkpoint=tmp_path)
    assert resumed.resumed_from == 6
    np.testing.assert_allclose(resumed.losses, full.losses, rtol=1e-5)
    for (name, a), (_, b) in zip(full_lm.model.named_parameters(), resumed_lm.model.named_parameters(),
                                 strict=True):
        if a.requires_grad:
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    assert not list(tmp_path.iterdir())  # finished: nothing left to resume


def test_a_checkpoint_of_another_run_is_set_aside_not_resumed(tmp_path):
    settings = TrainSettings(epochs=3, batch_size=2, lr=5e-3, checkpoint_every=2)

    class Killed(Exception):
        pass

    lm = tiny_lm()

    def dying(epoch):
        if epoch == 2:
            raise Killed
        return examples(lm)

    with pytest.raises(Killed):
        train(lm, dying, settings, progress=False, checkpoint=tmp_path)
    other = TrainSettings(epochs=3, batch_size=2, lr=1e-3, checkpoint_every=2)  # a changed setting
    fresh_lm = tiny_lm()
    result = train(fresh_lm, lambda e: examples(fresh_lm), other, progress=False, checkpoint=tmp_path)
    assert result.resumed_from == 0
    assert (tmp_path / f"{CHECKPOINT_FILE}.stale").exists()
    reference_lm = tiny_lm()
    reference = train(reference_lm, lambda e: examples(reference_lm), other, progress=False)
    np.testing.assert_allclose(result.losses, reference.losses, rtol=1e-5)
