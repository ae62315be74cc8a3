"""A folder of an older card format, or a broken folder, is one clear sentence naming `steervis fit`; the
calibrated reduction keeps its prior with the model."""

import json

import numpy as np
import pytest

from steervis.card import CARD_FORMAT, card_path
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


@pytest.mark.parametrize("version", [1, 2])
def test_an_adapter_saved_with_an_older_card_format_names_the_command_that_rebuilds_it(fitted, tmp_path,
                                                                                      version):
    folder = tmp_path / f"v{version}"
    fitted.save(folder)
    # the loose card the decider wrote before the model card had one type (format 1 lacked card_version)
    card = {"base_model": "tiny-llama", "classes": fitted.classes, "finetuned": True, "template": "vllavo",
            "decide": to_dict(fitted.config), "data_hash": "x", "n_train": 4,
            **({"card_version": version} if version > 1 else {})}
    card_path(folder).write_text(json.dumps(card))
    with pytest.raises(SteervisError) as err:
        Decider.load(folder)
    assert str(err.value) == (f"{card_path(folder)} was written by an older steervis (card format {version}, "
                              f"now {CARD_FORMAT}): refit it with `steervis fit` (give its --out folder).")


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
