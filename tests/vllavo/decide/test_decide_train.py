"""LoRA finetuning lowers the loss; adapters save atomically and load to identical probabilities."""

import numpy as np
import pytest
import torch

from steervis.card import read_card
from steervis.errors import SteervisError
from steervis.lm.train import length_batches
from steervis.vllavo.decide.config import DecideConfig, SelfTrainSettings, TrainSettings
from steervis.vllavo.decide.decider import Decider, stratified_subset
from steervis.vllavo.decide.selftrain import select_pseudo, self_train

TEXTS = ["Tags:\n- fur\n- whiskers", "Tags:\n- wheels\n- road", "Tags:\n- leaves\n- trunk", "Tags:\n- purr",
         "Tags:\n- engine\n- exhaust pipe\n- seats"]
LABELS = ["cat", "car", "tree", "cat", "car"]
CLASSES = ["car", "cat", "tree"]


def tiny_config(**train) -> DecideConfig:
    return DecideConfig(model="tiny-llama", max_length=128,
                        train=TrainSettings(**{"epochs": 3, "batch_size": 5, "lr": 1e-2, "warmup": 0.0,
                                               **train}))


@pytest.fixture(scope="module")
def fitted():
    dec = Decider(tiny_config())
    result = dec.fit(TEXTS, LABELS, CLASSES, progress=False)
    return dec, result


def test_a_few_lora_steps_lower_the_training_loss(fitted):
    dec, result = fitted
    assert result.steps == 3 and dec.finetuned
    assert result.losses[-1] < result.losses[0]
    trainable = [n for n, p in dec.lm.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert ({m.split(".lora_A")[0].rsplit(".", 1)[-1] for m in trainable if "lora_A" in m}
            == {"q_proj", "v_proj"})


def test_saved_adapter_loads_to_identical_probabilities(fitted, tmp_path):
    dec, _ = fitted
    before = dec.predict_proba(TEXTS)
    out = dec.save(tmp_path / "run", data={"note": "x"})
    card = read_card(out, kind="decider")
    assert card.decider.classes == CLASSES and card.base == "tiny-llama" and card.data["note"] == "x"
    assert card.data["data_hash"] and card.metrics["steps"] == 3 and card.config["lora"]["r"] == 8
    assert (out / "adapter" / "adapter_config.json").exists()
    np.testing.assert_allclose(Decider.load(out).predict_proba(TEXTS), before, atol=1e-6)
    dec.save(tmp_path / "run")  # overwriting replaces the folder, leaving no temporary folder behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_refit_starts_from_the_base_model_not_the_last_adapter(fitted):
    dec = Decider(tiny_config())
    first = dec.fit(TEXTS, LABELS, CLASSES, progress=False)
    again = dec.fit(TEXTS, LABELS, CLASSES, progress=False)
    assert again.losses == pytest.approx(first.losses, abs=1e-5)


def test_bad_training_input_is_a_clear_error():
    dec = Decider(tiny_config())
    with pytest.raises(SteervisError, match="class list is empty"):
        dec.fit(TEXTS, LABELS, [])
    with pytest.raises(SteervisError, match="Duplicate class names: cat"):
        dec.fit(TEXTS, LABELS, ["cat", "car", "cat"])
    with pytest.raises(SteervisError, match="not among the classes: tree"):
        dec.fit(TEXTS, LABELS, ["car", "cat"])
    with pytest.raises(SteervisError, match="No training descriptions"):
        dec.fit([], [], CLASSES)
    with pytest.raises(SteervisError, match="No classes yet"):
        dec.predict_proba(TEXTS)
    with pytest.raises(SteervisError, match="inference='beam'"):
        DecideConfig(inference="beam")


def test_length_batches_cover_every_example_with_little_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(10, 200, size=103)
    batches = length_batches(lengths, 8, rng)
    assert sorted(i for b in batches for i in b) == list(range(103))
    waste = sum(max(lengths[b]) * len(b) - lengths[b].sum() for b in batches) / lengths.sum()
    assert waste < 0.1  # random batches would waste ~50 %


def test_stratified_subset_keeps_every_class():
    labels = ["a"] * 50 + ["b"] * 30 + ["c"] * 2
    keep = stratified_subset(labels, 20, seed=0)
    assert len(keep) <= 20 and {labels[i] for i in keep} == {"a", "b", "c"}


def test_pseudo_label_selection_is_class_balanced():
    probs = np.array([[0.99, 0.01]] * 8 + [[0.4, 0.6]] * 2)
    top = select_pseudo(probs, SelfTrainSettings(fraction=0.5))
    assert top.tolist() == [0, 1, 2, 3, 8]  # half of each predicted class, not the 5 most confident overall
    unbalanced = select_pseudo(probs, SelfTrainSettings(fraction=0.5, class_balanced=False))
    assert unbalanced.tolist() == [0, 1, 2, 3, 4]
    cut = select_pseudo(probs, SelfTrainSettings(selection="threshold", threshold=0.55))
    assert len(cut) == 4 and set(probs[cut].argmax(1)) == {0, 1}


def test_self_training_logs_rounds_and_never_selects_with_labels():
    truth = np.array([0, 0, 1, 1])
    calls = []
    state = {"probs": np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]])}

    def refit(keep, pseudo):
        calls.append((keep.tolist(), pseudo.tolist()))
        state["probs"] = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.3, 0.7]])

    logs = self_train(refit, lambda: state["probs"], SelfTrainSettings(rounds=2, fraction=0.5), truth)
    assert [lg.round for lg in logs] == [0, 1, 2] and len(calls) == 2
    assert logs[0].target_accuracy == 0.75 and logs[-1].target_accuracy == 1.0
    assert logs[0].pseudo == 3 and logs[0].pseudo_accuracy == 1.0 and logs[0].pseudo_recall == 0.75
    assert logs[0].classes_covered == 2 and logs[0].changed is None
    assert logs[1].changed == 0.25  # item 3 lost its pseudo-label: one of four
    blind = self_train(lambda k, p: None, lambda: state["probs"], SelfTrainSettings(rounds=1))
    assert blind[0].pseudo == logs[1].pseudo and blind[0].target_accuracy is None


def test_self_training_stops_early_once_pseudo_labels_settle():
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]])
    calls = []
    logs = self_train(lambda k, p: calls.append(k), lambda: probs,
                      SelfTrainSettings(rounds=5, min_change=0.02))
    assert len(calls) == 1 and [lg.round for lg in logs] == [0, 1]  # round 1 repeats round 0: stop
    assert logs[-1].changed == 0.0 and logs[-1].stopped_early
    never = self_train(lambda k, p: calls.append(k), lambda: probs,
                       SelfTrainSettings(rounds=3, min_change=0.0))
    assert len(never) == 4  # min_change=0 runs every round


def test_gradient_checkpointing_trains_exactly_like_the_plain_loop():
    plain = Decider(tiny_config()).fit(TEXTS, LABELS, CLASSES, progress=False)
    checkpointed = Decider(tiny_config(gradient_checkpointing=True))
    result = checkpointed.fit(TEXTS, LABELS, CLASSES, progress=False)
    np.testing.assert_allclose(result.losses, plain.losses, rtol=1e-4)
    assert not checkpointed.lm.model.is_activation_checkpointing  # switched off again for inference


def test_continue_steps_trains_the_current_adapter_on():
    dec = Decider(tiny_config())
    dec.fit(TEXTS, LABELS, CLASSES, progress=False)
    before = {n: p.detach().clone() for n, p in dec.lm.model.named_parameters() if "lora_" in n}
    result = dec.fit(TEXTS, LABELS, CLASSES, progress=False, continue_steps=2)
    assert result.steps == 2  # the short budget, not the full one
    after = {n: p for n, p in dec.lm.model.named_parameters() if "lora_" in n}
    assert set(after) == set(before)  # the same adapter (no second LoRA stacked on an unloaded model)
    assert any(not torch.equal(before[n], after[n]) for n in before)  # ... and it moved on from its weights
    fresh = Decider(tiny_config(max_steps=2)).fit(TEXTS, LABELS, CLASSES, progress=False)
    assert result.losses[0] < fresh.losses[0]  # it starts where the first fit ended, not from scratch
