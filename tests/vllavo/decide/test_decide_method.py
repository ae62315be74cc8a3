"""describe-decide and zeroshot-llm as Classifiers over frames: fit, predict, save/load, UDA, registry."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from steervis.config import load_yaml, preset_path
from steervis.errors import SteervisError
from steervis.methods import build_method
from steervis.methods.describe_decide import DescribeDecide, ZeroShotLLM, decide_config
from steervis.vllavo.decide.config import DecideConfig, SelfTrainSettings, TrainSettings

FRAME = pd.DataFrame({
    "path": [f"/img/{i}.png" for i in range(6)], "domain": ["photo"] * 4 + ["sketch"] * 2,
    "sha256": [str(i) for i in range(6)], "class": ["cat", "car", "cat", "car", "cat", "car"],
    "text": ["Tags:\n- fur", "Tags:\n- wheels", "Tags:\n- whiskers", "Tags:\n- road", "Tags:\n- paw",
             "Tags:\n- tyre"],
})
CLASSES = ["car", "cat"]


def texts(frame: pd.DataFrame) -> list[str]:
    return list(frame["text"])


def tiny(**fields) -> DecideConfig:
    return decide_config("decide-tiny", train={"epochs": 1, "batch_size": 4, "max_steps": 2}, **fields)


def test_fit_predict_save_load_roundtrip(tmp_path):
    clf = DescribeDecide(texts, tiny(), describe_config={"matcher": "conse"}, progress=False)
    probs = clf.fit(FRAME[:4], CLASSES).predict_proba(FRAME)
    assert probs.shape == (6, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)
    clf.save(tmp_path / "a", data={"domains": ["photo"]})
    again = DescribeDecide.load(tmp_path / "a", texts=texts)
    np.testing.assert_allclose(again.predict_proba(FRAME), probs, atol=1e-6)
    assert again.classes == CLASSES and again.describe_config == {"matcher": "conse"}
    assert again.decider.card.data["domains"] == ["photo"] and again.decider.card.decider.method == \
        "describe-decide"


def test_generate_mode_gives_one_hot_rows():
    clf = DescribeDecide(texts, tiny(inference="generate", max_new_tokens=3, beams=2), progress=False)
    probs = clf.fit(FRAME[:4], CLASSES).predict_proba(FRAME[4:])
    assert probs.shape == (2, 2) and set(probs.ravel()) <= {0.0, 1.0} and (probs.sum(1) == 1).all()


def test_bad_input_is_one_clear_sentence():
    clf = DescribeDecide(texts, tiny(), progress=False)
    with pytest.raises(SteervisError, match="class list is empty"):
        clf.fit(FRAME, [])
    with pytest.raises(SteervisError, match="Duplicate class names: car"):
        clf.fit(FRAME, ["car", "car", "cat"])
    with pytest.raises(SteervisError, match="not among the classes: cat"):
        clf.fit(FRAME, ["car", "dog"])
    with pytest.raises(SteervisError, match="not fitted"):
        clf.predict_proba(FRAME)
    with pytest.raises(SteervisError, match="gave 1 texts for 6 rows"):
        DescribeDecide(lambda f: ["x"], tiny(), progress=False).fit(FRAME, CLASSES)
    with pytest.raises(SteervisError, match="Unknown config key 'trian'"):
        decide_config("decide-tiny", trian={})


def test_uda_adapt_logs_rounds_without_selecting_on_labels():
    config = tiny(selftrain=SelfTrainSettings(rounds=2, fraction=0.5, min_change=0.0))
    clf = DescribeDecide(texts, config, progress=False).fit(FRAME[:4], CLASSES)
    target = FRAME[4:]
    logs = clf.adapt(target, labels=list(target["class"]))
    assert [r["round"] for r in logs] == [0, 1, 2] and all(r["target_accuracy"] is not None for r in logs)
    blind = (DescribeDecide(texts, config, progress=False).fit(FRAME[:4], CLASSES)
             .adapt(target.drop(columns="class")))
    # labels change the log, not the choice
    assert [r["pseudo"] for r in blind] == [r["pseudo"] for r in logs]
    assert all(r["target_accuracy"] is None for r in blind)
    assert clf.predict_proba(target).shape == (2, 2)


def test_zeroshot_llm_needs_no_training_and_has_no_adapt():
    clf = ZeroShotLLM(texts, tiny(), progress=False).fit(FRAME.iloc[:0], CLASSES)
    assert clf.predict_proba(FRAME).shape == (6, 2) and not clf.decider.finetuned
    assert not hasattr(clf, "adapt")


def test_methods_registry_builds_both_from_a_context():
    context = SimpleNamespace(describe_texts=texts, describe={"tag_top_k": 3}, progress=False)
    tiny = load_yaml(preset_path("decide-tiny"))
    clf = build_method("describe-decide", context,
                       {**tiny, "inference": "generate", "train": {"max_steps": 1}})
    assert isinstance(clf, DescribeDecide) and clf.config.inference == "generate"
    assert clf.config.train.max_steps == 1 and clf.config.model == "tiny-llama" and not clf.progress
    # a nested section given in part keeps the default budget (decide-quick's) for the rest
    assert clf.config.train.batch_size == 8 and clf.config.train.gradient_checkpointing
    zs = build_method("zeroshot-llm", context, {**tiny, "reduction": "sum"})
    assert isinstance(zs, ZeroShotLLM) and zs.config.reduction == "sum"
    with pytest.raises(SteervisError, match="no describe_texts"):
        build_method("describe-decide", SimpleNamespace())
    with pytest.raises(SteervisError, match="Did you mean 'max_steps'"):
        build_method("describe-decide", context, {"train": {"max_stepz": 1}})


def test_every_decide_preset_loads():
    for name in ("decide-quick", "decide-full", "decide-tiny"):
        cfg = decide_config(name)
        assert cfg.lora.r == 8 and cfg.lora.target_modules == ["q_proj", "v_proj"] and cfg.train.lr == 1e-3
    assert isinstance(decide_config("decide-quick").train, TrainSettings)
