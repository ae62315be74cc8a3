"""Folders written before the LM core (card version 1) still load; a broken folder is one clear sentence;
the calibrated reduction keeps its prior with the model."""

import json

import numpy as np
import pytest

from steervis.config import to_dict
from steervis.errors import SteervisError
from steervis.vllavo.decide.config import DecideConfig, TrainSettings
from steervis.vllavo.decide.decider import Decider

TEXTS = ["Tags:\n- fur", "Tags:\n- wheels", "Tags:\n- leaves", "Tags:\n- purr"]
LABELS = ["cat", "car", "tree", "cat"]
CLASSES = ["car", "cat", "tree"]


def tiny(**fields) -> DecideConfig:
    return DecideConfig(model="tiny-llama", max_length=128, train=TrainSettings(epochs=2, batch_size=4),
                        **fields)


@pytest.fixture(scope="module")
def fitted():
    dec = Decider(tiny())
    dec.fit(TEXTS, LABELS, CLASSES, progress=False)
    return dec


def write_version_1(dec: Decider, folder):
    """The layout decide/train.py wrote before this release: adapter/ + card.json, card_version 1, no
    prior."""
    folder.mkdir()
    dec.lm.model.save_pretrained(folder / "adapter")
    card = {"card_version": 1, "base_model": "tiny-llama", "classes": dec.classes, "finetuned": True,
            "template": "vllavo", "decide": to_dict(dec.config), "data_hash": "x", "n_train": 4}
    (folder / "card.json").write_text(json.dumps(card))


def test_an_adapter_saved_by_the_old_code_loads_and_predicts_the_same(fitted, tmp_path):
    write_version_1(fitted, tmp_path / "v1")
    loaded = Decider.load(tmp_path / "v1")
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), fitted.predict_proba(TEXTS), atol=1e-6)


@pytest.mark.parametrize("damage", ["bad-json", "empty-card", "no-adapter", "truncated-weights"])
def test_a_damaged_model_folder_is_one_sentence(fitted, tmp_path, damage, damage_adapter):
    folder = tmp_path / "m"
    fitted.save(folder)
    damage_adapter(folder, damage)
    with pytest.raises(SteervisError) as err:
        Decider.load(folder)
    assert "\n" not in str(err.value) and ("refit" in str(err.value) or "steervis fit" in str(err.value))


def test_calibrated_reduction_saves_its_training_prior(tmp_path):
    dec = Decider(tiny(reduction="calibrated"))
    dec.fit(TEXTS, LABELS, CLASSES, progress=False)
    assert dec.prior is not None and len(dec.prior) == 3 and abs(sum(dec.prior) - 1) < 1e-6
    probs = dec.predict_proba(TEXTS)
    dec.save(tmp_path / "cal")
    loaded = Decider.load(tmp_path / "cal")
    assert loaded.prior == dec.prior
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), probs, atol=1e-6)
    # a model saved without a prior refuses calibrated scoring with a sentence, not a wrong answer
    plain = Decider(tiny())
    plain.fit(TEXTS, LABELS, CLASSES, progress=False)
    plain.save(tmp_path / "plain")
    with pytest.raises(SteervisError, match="without a class prior"):
        Decider.load(tmp_path / "plain", reduction="calibrated")
