"""The trainer's checkpoint is never unpickled: a pickle planted under any of its names runs no code, and the
safetensors + JSON state still resumes bit for bit."""

import json
import logging
import os
import pickle
import shlex

import numpy as np
import pytest
import torch

from steervis import zoo
from steervis.lm.adapters import add_lora
from steervis.lm.batch import Example
from steervis.lm.config import LoraSettings, TrainSettings
from steervis.lm.model import LanguageModel
from steervis.lm.train import CHECKPOINT_FILE, LEGACY_CHECKPOINT, train

SETTINGS = TrainSettings(epochs=3, batch_size=2, lr=5e-3, checkpoint_every=2)


def tiny_lm() -> LanguageModel:
    lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
    lm.model = add_lora(lm.model, LoraSettings(dropout=0.1), seed=0)  # dropout: the RNG state must resume too
    return lm


def examples(lm: LanguageModel) -> list[Example]:
    pairs = [("Tags:\n- fur\n### Answer:", " cat"), ("a longer prompt here\n### Answer:", " ice cream"),
             ("x\n### Answer:", " t-shirt"), ("wheels\n### Answer:", " car"), ("bark\n### Answer:", " dog")]
    return [Example.from_prompt_answer(lm.encode(p), lm.encode_answer(a)) for p, a in pairs]


class Planted:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(self.marker)}",)


class Killed(Exception):
    pass


def plant(path, marker):
    """A live payload at ``path``: checked to fire under an unsafe load, then the marker is removed again."""
    if path.suffix == ".pt":
        torch.save({"fingerprint": "x", "trainable": Planted(marker)}, path)  # what older versions wrote
        torch.load(path, weights_only=False)
    else:
        path.write_bytes(pickle.dumps(Planted(marker)))
        pickle.loads(path.read_bytes())  # noqa: S301 (the payload's own check)
    assert marker.exists(), "the planted pickle does not fire: the test would prove nothing"
    marker.unlink()


def killed_run(folder):
    """A run that dies when epoch 2's data is asked for, leaving the checkpoint of step 6."""
    lm = tiny_lm()

    def dying(epoch):
        if epoch == 2:
            raise Killed
        return examples(lm)

    with pytest.raises(Killed):
        train(lm, dying, SETTINGS, progress=False, checkpoint=folder)


def uninterrupted():
    lm = tiny_lm()
    return lm, train(lm, lambda e: examples(lm), SETTINGS, progress=False)


def trainable(lm):
    return {n: p.detach().clone() for n, p in lm.model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("names", [[LEGACY_CHECKPOINT], [CHECKPOINT_FILE],
                                   ["trainer-state-0000002.safetensors"],
                                   [LEGACY_CHECKPOINT, CHECKPOINT_FILE, "trainer-state-0000006.safetensors"]])
def test_a_planted_pickle_is_never_executed_and_training_starts_fresh(tmp_path, names, caplog):
    folder, marker = tmp_path / "ckpt", tmp_path / "PWNED"
    folder.mkdir()
    for name in names:
        plant(folder / name, marker)
    lm = tiny_lm()
    with caplog.at_level(logging.WARNING, logger="steervis"):
        result = train(lm, lambda e: examples(lm), SETTINGS, progress=False, checkpoint=folder)
    assert not marker.exists()
    assert result.resumed_from == 0 and result.steps == 9
    assert result.losses == uninterrupted()[1].losses
    legacy = [r for r in caplog.records if LEGACY_CHECKPOINT in r.getMessage()]
    assert len(legacy) == (LEGACY_CHECKPOINT in names)  # one line, only when there is one
    assert not (folder / CHECKPOINT_FILE).exists()  # finished: its own state removed
    assert (folder / LEGACY_CHECKPOINT).exists() == (LEGACY_CHECKPOINT in names)  # left alone, never read


def test_a_pickle_in_place_of_the_named_tensors_file_is_set_aside_unread(tmp_path):
    folder, marker = tmp_path / "ckpt", tmp_path / "PWNED"
    killed_run(folder)
    tensors = next(folder.glob("trainer-state-*.safetensors"))
    plant(tensors, marker)  # the JSON is genuine and of this run: only the tensors are hostile
    lm = tiny_lm()
    result = train(lm, lambda e: examples(lm), SETTINGS, progress=False, checkpoint=folder)
    assert not marker.exists()
    assert result.resumed_from == 0 and result.losses == uninterrupted()[1].losses
    assert (folder / f"{tensors.name}.corrupt").exists() and (folder / f"{CHECKPOINT_FILE}.corrupt").exists()


@pytest.mark.parametrize("damage", ["json", "tensors", "elsewhere"])
def test_a_damaged_checkpoint_is_set_aside_and_training_starts_fresh(tmp_path, damage):
    folder = tmp_path / "ckpt"
    killed_run(folder)
    path = (folder / CHECKPOINT_FILE if damage != "tensors"
            else next(folder.glob("trainer-state-*.safetensors")))
    if damage == "elsewhere":  # a JSON of this run naming a file outside the folder
        state = json.loads(path.read_text())
        path.write_text(json.dumps({**state, "tensors": "../../outside.safetensors"}))
    else:  # truncated
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    lm = tiny_lm()
    result = train(lm, lambda e: examples(lm), SETTINGS, progress=False, checkpoint=folder)
    assert result.resumed_from == 0 and result.losses == uninterrupted()[1].losses
    assert (folder / f"{path.name}.corrupt").exists()


def test_a_resumed_run_equals_an_uninterrupted_one_bit_for_bit(tmp_path):
    folder = tmp_path / "ckpt"
    killed_run(folder)
    assert (folder / CHECKPOINT_FILE).exists() and len(list(folder.glob("trainer-state-*.safetensors"))) == 1
    assert not list(folder.glob("*.pt"))
    lm = tiny_lm()
    resumed = train(lm, lambda e: examples(lm), SETTINGS, progress=False, checkpoint=folder)
    full_lm, full = uninterrupted()
    assert resumed.resumed_from == 6 and resumed.losses == full.losses and resumed.shard == full.shard
    want, got = trainable(full_lm), trainable(lm)
    assert want.keys() == got.keys()
    for name, value in got.items():
        assert torch.equal(value, want[name]), name
    assert not list(folder.iterdir())
    np.testing.assert_array_equal(resumed.losses, full.losses)
