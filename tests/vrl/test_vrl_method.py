"""The vrl method: criteria (verbalized or from a file) → matcher scores → classifier, through the Classifier
contract; editing the criteria file and fitting again; bad shots."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from steervis.errors import SteervisError
from steervis.methods import METHODS
from steervis.methods.context import MethodContext
from steervis.methods.vrl import VRL
from steervis.vrl.criteria import read_criteria

# Each image is a point on three axes: red, long, round; a text points along the axes its words name.
AXES = ("red", "long", "round")
IMAGES = {"apple1": [1, 0, 1], "apple2": [0.9, 0.1, 0.8], "apple3": [1, 0.2, 0.9],
          "banana1": [0, 1, 0], "banana2": [0.1, 0.9, 0.1], "banana3": [0.2, 1, 0.2]}


class AxesMatcher:
    name, disk_cache = "axes", False

    def encode_texts(self, texts):
        rows = np.array([[float(a in t) for a in AXES] + [0.1] for t in texts])
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def context(monkeypatch, tmp_home):  # verbalized answers are cached under STEERVIS_HOME
    ctx = MethodContext(progress=False)
    monkeypatch.setattr(ctx, "matcher", lambda name, *placement: AxesMatcher())
    monkeypatch.setattr(ctx, "image_embeddings", lambda items, name, *placement: np.array(
        [[*IMAGES[k], 0.0] for k in items["key"]]) / np.sqrt(3))
    return ctx


def frame(keys):
    return pd.DataFrame({"key": keys, "class": [k.rstrip("0123456789") for k in keys]})


def criteria_file(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_fit_on_a_criteria_file_then_refit_after_editing_it(context, tmp_path):
    path = criteria_file(tmp_path / "c.txt", ["red skin", "long shape | round shape", "a banana peel"])
    clf = VRL(context, criteria=path).fit(frame(list(IMAGES)), ["apple", "banana"])
    assert [c.line() for c in clf.criteria_list] == ["red skin", "long shape | round shape"]
    facts = clf.diagnostics()
    assert facts["dropped_naming_class"] == pytest.approx(1 / 3, abs=1e-3) and facts["criteria"] == 2
    assert clf.predict_proba(frame(["apple1", "banana2"])).argmax(1).tolist() == [0, 1]
    assert "red skin" in clf.explain() and "apple:" in clf.explain()
    clf.save(tmp_path / "saved")
    edited = criteria_file(tmp_path / "saved" / "criteria.txt", ["round shape"])
    again = VRL(context, criteria=edited).fit(frame(list(IMAGES)), ["apple", "banana"])
    assert [c.line() for c in again.criteria_list] == ["round shape"]
    assert again.predict_proba(frame(["apple2", "banana3"])).argmax(1).tolist() == [0, 1]


def test_save_and_load_give_the_same_probabilities(context, tmp_path):
    path = criteria_file(tmp_path / "c.txt", ["red skin", "long shape"])
    clf = VRL(context, criteria=path, classifier="tree").fit(frame(list(IMAGES)), ["apple", "banana"])
    clf.save(tmp_path / "saved")
    again = METHODS.get("vrl").load(tmp_path / "saved", context=context)
    test = frame(["apple3", "banana1"])
    np.testing.assert_allclose(again.predict_proba(test), clf.predict_proba(test))
    assert again.criteria_list == clf.criteria_list


def test_verbalized_criteria_come_from_the_shots_descriptions(context, monkeypatch):
    said = {}

    def ask(questions):
        said["questions"] = questions
        return ["- red skin | long shape\n- an apple stalk | none" if "differences" in q else "- round shape"
                for q in questions]

    monkeypatch.setattr("steervis.vrl.verbalize.lm_asker", lambda lm, *a, **k: ask)
    monkeypatch.setattr(context, "model", lambda *a, **k: None)
    monkeypatch.setattr("steervis.lm.model.LanguageModel", lambda model: None)
    monkeypatch.setattr(context, "describe_texts", lambda items: [f"looks like {k}" for k in items["key"]])
    clf = VRL(context).fit(frame(["apple1", "apple2", "banana1", "banana2"]), ["apple", "banana"])
    assert [c.line() for c in clf.criteria_list] == ["red skin | long shape", "round shape"]
    assert clf.facts["source"] == "verbalized"
    assert clf.facts["dropped_naming_class"] == pytest.approx(1 / 3, abs=1e-3)
    assert any("looks like banana" in q for q in said["questions"])


def test_the_class_names_control_reads_no_description_and_the_shuffled_one_keeps_the_words(context,
                                                                                            monkeypatch):
    asked = []

    def ask(questions):
        asked.extend(questions)
        return ["- red skin | long shape" if "differences" in q else "- round shape" for q in questions]

    monkeypatch.setattr("steervis.vrl.verbalize.lm_asker", lambda lm, *a, **k: ask)
    monkeypatch.setattr(context, "model", lambda *a, **k: None)
    monkeypatch.setattr("steervis.lm.model.LanguageModel", lambda model: None)
    monkeypatch.setattr(context, "describe_texts", lambda items: pytest.fail("the control reads no image"))
    shots = frame(["apple1", "apple2", "banana1", "banana2"])
    clf = VRL(context, from_images=False).fit(shots, ["apple", "banana"])
    assert len(asked) == 3 and "the apple and the banana" in asked[0]
    assert [c.line() for c in clf.criteria_list] == ["red skin | long shape", "round shape"]
    shuffled = VRL(context, from_images=False, shuffle=True, seed=2).fit(shots, ["apple", "banana"])
    words = Counter(w for c in shuffled.criteria_list for p in c.phrases() for w in p.split())
    assert words <= Counter(["red", "skin", "long", "shape", "round", "shape"]) and len(words) > 1
    del asked[:]
    VRL(context, from_images=False, max_pairs=2).fit(shots, ["apple", "banana"])
    assert len(asked) == 2  # two of the three name pairs: max_pairs caps the control as it caps the images


def test_a_class_without_shots_gets_probability_zero_and_is_recorded(context, tmp_path):
    path = criteria_file(tmp_path / "c.txt", ["red skin", "long shape"])
    clf = VRL(context, criteria=path).fit(frame(["apple1", "banana1"]), ["apple", "banana", "cherry"])
    proba = clf.predict_proba(frame(["apple2"]))
    assert proba[0, 2] == 0 and proba[0].argmax() == 0
    facts = clf.diagnostics()
    assert facts["no_shots"] == ["cherry"] and facts["selection"].startswith("defaults")


def test_criteria_scoring_every_shot_the_same_fall_back_to_the_class_frequencies(context, tmp_path):
    path = criteria_file(tmp_path / "c.txt", ["green leaves"])  # names no axis: every image scores 0
    clf = VRL(context, criteria=path).fit(frame(["apple1", "apple2", "banana1"]), ["apple", "banana"])
    np.testing.assert_allclose(clf.predict_proba(frame(["banana2"])), [[2 / 3, 1 / 3]])
    assert "predicting the class frequencies" in clf.diagnostics()["fallback"]


def test_bad_criteria_and_bad_shots_are_one_sentence(context, tmp_path):
    naming = criteria_file(tmp_path / "n.txt", ["an apple", "banana skin | apple skin"])
    with pytest.raises(SteervisError, match="no criterion left"):
        VRL(context, criteria=naming).fit(frame(list(IMAGES)), ["apple", "banana"])
    fine = criteria_file(tmp_path / "c.txt", ["red skin"])
    with pytest.raises(SteervisError, match="at least two classes"):
        VRL(context, criteria=fine).fit(frame(["apple1", "apple2"]), ["apple", "banana"])
    with pytest.raises(SteervisError, match="no classifier 'svm'"):
        VRL(context, classifier="svm")
    assert read_criteria(fine)[0].text == "red skin"
