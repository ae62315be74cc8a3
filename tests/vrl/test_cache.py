"""The verbalization cache: a second fit asks no model; a changed setting, text, weight or behaviour version
asks again; a damaged or foreign cache file is asked again and replaced, never trusted."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from steervis.identity import BEHAVIOUR
from steervis.methods.context import MethodContext
from steervis.methods.vrl import VRL
from steervis.prune import stale_entries
from steervis.vrl import verbalize as v
from steervis.vrl.cache import AREA, CachedScores, CachedVerbalizer, weights_identity

KEYS = ["apple1", "apple2", "banana1", "banana2"]


class Counting:
    """A verbalizer that says one criterion per pair and counts how often it is asked."""

    kind = "counting"

    def __init__(self, texts):
        self.texts, self.calls = texts, 0

    def shown(self, pairs):
        return [f"{self.texts[p.first]} / {self.texts[p.second]}" for p in pairs]

    def answer(self, pairs):
        self.calls += 1
        return [f"- {p.kind} of {' and '.join(p.classes)}" for p in pairs]


def pairs():
    return v.draw_pairs(["apple", "apple", "banana", "banana"])


def test_answers_are_asked_once_and_a_hit_is_logged(tmp_home, caplog, monkeypatch):
    inner = Counting(["red", "round", "long", "yellow"])
    cached = CachedVerbalizer(inner, {"max_new_tokens": 8}, ["lm-a"])
    first = cached.answer(pairs())
    with caplog.at_level(logging.INFO, logger="steervis.vrl.cache"):
        again = CachedVerbalizer(Counting(inner.texts), {"max_new_tokens": 8}, ["lm-a"])
        assert again.answer(pairs()) == first and again.inner.calls == 0
    assert "from the cache" in caplog.text
    files = sorted(p.name for p in (tmp_home / AREA).iterdir())
    assert len(files) == 2 and files[1].endswith(".identity.json")  # what `steervis cache prune` reads
    assert stale_entries(tmp_home) == []
    monkeypatch.setitem(BEHAVIOUR, "lm", BEHAVIOUR["lm"] + 1)  # a new LM core: the answers are unreachable
    assert [p.name for p in stale_entries(tmp_home)] == files[:1]


@pytest.mark.parametrize("change", ["setting", "weights", "text", "pairs", "behaviour"])
def test_a_changed_setting_text_weight_or_behaviour_asks_again(tmp_home, monkeypatch, change):
    texts = ["red", "round", "long", "yellow"]
    CachedVerbalizer(Counting(texts), {"max_new_tokens": 8}, ["lm-a"]).answer(pairs())
    settings, weights, drawn = {"max_new_tokens": 8}, ["lm-a"], pairs()
    if change == "setting":
        settings = {"max_new_tokens": 9}
    elif change == "weights":
        weights = ["lm-b"]
    elif change == "text":
        texts = ["red", "round", "long", "green"]
    elif change == "pairs":
        drawn = v.draw_pairs(["apple", "apple", "banana", "banana"], seed=3)[::-1]
    else:
        monkeypatch.setitem(BEHAVIOUR, "lm", BEHAVIOUR["lm"] + 1)
    inner = Counting(texts)
    CachedVerbalizer(inner, settings, weights).answer(drawn)
    assert inner.calls == 1


@pytest.mark.parametrize("content", ["{not json", '{"identity": {"key": "other"}, "answers": ["- x"]}',
                                     "short"])
def test_a_damaged_or_foreign_file_is_asked_again_and_replaced(tmp_home, content):
    texts = ["red", "round", "long", "yellow"]
    cached = CachedVerbalizer(Counting(texts), {}, ["lm-a"])
    good = cached.answer(pairs())
    path = cached.path(cached.record(pairs()))
    if content == "short":  # the right identity, one answer missing
        data = json.loads(path.read_text())
        content = json.dumps({**data, "answers": data["answers"][:-1]})
    path.write_text(content)
    again = CachedVerbalizer(Counting(texts), {}, ["lm-a"])
    assert again.answer(pairs()) == good and again.inner.calls == 1
    assert json.loads(path.read_text())["answers"] == good


def test_a_model_folder_is_known_by_its_files(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"1")
    before = weights_identity(str(tmp_path))
    (tmp_path / "weights.bin").write_bytes(b"2")
    assert before != weights_identity(str(tmp_path)) and weights_identity("tiny-llama") == "tiny-llama"


@pytest.fixture
def context(monkeypatch, tmp_home):
    """A run's context with images on three axes and fixed descriptions; the tiny LLaMA really generates."""
    ctx = MethodContext(progress=False)
    axes = ("red", "long", "round")

    class Matcher:
        name, disk_cache = "axes", False

        def encode_texts(self, texts):
            rows = np.array([[float(a in t) for a in axes] + [0.1] for t in texts])
            return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    rng = np.random.default_rng(0)
    monkeypatch.setattr(ctx, "matcher", lambda name, *placement: Matcher())
    monkeypatch.setattr(ctx, "image_embeddings", lambda items, name, *placement: rng.random((len(items), 4)))
    monkeypatch.setattr(ctx, "describe_texts", lambda items: [f"a photo of {k}" for k in items["key"]])
    return ctx


def test_a_second_fit_asks_the_lm_nothing_and_a_changed_prompt_asks_again(context, monkeypatch):
    import steervis.lm.generate as gen

    calls = []
    real = gen.generate
    monkeypatch.setattr(gen, "generate", lambda lm, prompts, **kw: calls.append(len(prompts)) or
                        real(lm, prompts, **kw))
    shots = pd.DataFrame({"key": KEYS, "class": [k.rstrip("12") for k in KEYS]})
    options = {"lm": "tiny-llama", "max_new_tokens": 6}
    first = VRL(context, **options).fit(shots, ["apple", "banana"])
    assert calls == [3]  # one difference and two commonality pairs, one batch
    again = VRL(context, **options, classifier="tree").fit(shots, ["apple", "banana"])
    shuffled = VRL(context, **options, shuffle=True).fit(shots, ["apple", "banana"])
    assert calls == [3] and again.criteria_list == first.criteria_list and shuffled.criteria_list
    VRL(context, lm="tiny-llama", max_new_tokens=7).fit(shots, ["apple", "banana"])
    monkeypatch.setattr(v, "COMMONALITY", v.COMMONALITY + " Be brief.")
    VRL(context, **options).fit(shots, ["apple", "banana"])
    VRL(context, **options, from_images=False).fit(shots, ["apple", "banana"])
    assert calls == [3, 3, 3, 3]


def test_scores_are_kept_per_cell_in_the_images_order(tmp_home):
    asked = []

    def scores(cache, images, texts):
        def compute(rows, text):  # a score that names its cell: the text's length + 10 × the image's letter
            asked.append((text, rows))
            return np.array([[len(text) + 10 * (ord(images[i]) - ord("a")), -1.0] for i in rows])

        return cache.scores(images, texts, compute)

    cache = CachedScores("toy", {"precision": "float32"}, ["toy-model"])
    first = scores(cache, ["a", "b", "a", "c"], ["red", "long tail"])
    assert asked == [("red", [0, 1, 3]), ("long tail", [0, 1, 3])]  # an image listed twice is scored once
    assert first.shape == (4, 2, 2) and first[:, :, 0].tolist() == [[3, 9], [13, 19], [3, 9], [23, 29]]
    again = CachedScores("toy", {"precision": "float32"}, ["toy-model"])
    np.testing.assert_array_equal(scores(again, ["c", "a"], ["long tail", "red"]), first[[3, 0]][:, ::-1])
    assert len(asked) == 2
    assert scores(again, ["a", "d"], ["red", "round"])[:, :, 0].tolist() == [[3, 5], [33, 35]]
    assert asked[2:] == [("red", [1]), ("round", [0, 1])]  # only the new image and the new text
    scores(CachedScores("toy", {"precision": "bfloat16"}, ["toy-model"]), ["a"], ["red"])
    scores(CachedScores("toy", {"precision": "float32"}, ["toy-model@retrained"]), ["a"], ["red"])
    assert asked[4:] == [("red", [0]), ("red", [0])]  # another setting or weights: another store
