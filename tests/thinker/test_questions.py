"""Thinker questions: every truth recomputed from the objects by an independent reading of the question; the
validation tenth, held-out concepts and test splits never reach them."""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd
import pytest

from steervis.data.heldout import HeldOut, singular
from steervis.errors import SteervisError
from steervis.thinker.questions import TYPES, thinker_questions

NONE = HeldOut([])
BOX = 40  # the hand-made objects' box side (conftest)


def recompute(objs: list[dict], question: str) -> str:
    """The answer to ``question`` from the scene's objects, read from the wording alone."""
    counts = Counter(o["name"] for o in objs)
    one = {o["name"]: o for o in objs}
    if m := re.fullmatch(r"How many more (\w+) than (\w+) are there\?", question):
        return str(counts[singular(m[1])] - counts[singular(m[2])])
    if m := re.fullmatch(r"How many (\w+) are there\?", question):
        return str(counts[singular(m[1])])
    if m := re.fullmatch(r"Are there more (\w+) than (\w+)\?", question):
        return "yes" if counts[singular(m[1])] > counts[singular(m[2])] else "no"
    if m := re.fullmatch(r"Is the (.+) (left of|above) the (.+)\?", question):
        a, b = one[m[1]], one[m[3]]
        assert counts[m[1]] == counts[m[3]] == 1  # a relation is asked between objects named once
        axis = "x" if m[2] == "left of" else "y"
        assert abs(a[axis] - b[axis]) >= 32  # 10 % of the 320 px canvas apart: never "about level"
        return "yes" if a[axis] + BOX / 2 < b[axis] + BOX / 2 else "no"
    if m := re.fullmatch(r"Which is bigger, the (.+) or the (.+)\?", question):
        a, b = sorted((one[m[1]], one[m[2]]), key=lambda o: -o["area"])
        assert a["area"] >= 1.5 * b["area"]
        return a["name"]
    raise AssertionError(f"an unexpected question: {question}")


def test_every_truth_matches_the_objects(crowd):
    rows = thinker_questions(crowd, held=NONE)
    objects = pd.read_parquet(crowd / "objects.parquet")
    by_scene = {s: f.to_dict("records") for s, f in objects.groupby("scene")}
    assert set(rows["type"]) == set(TYPES) and rows["qid"].is_unique
    for row in rows.itertuples():
        assert recompute(by_scene[row.scene], row.question) == row.answer, row.question
        assert row.chance == TYPES[row.type].chance
        if row.type == "count_among":  # another kind is there too
            assert len({o["name"] for o in by_scene[row.scene]}) >= 2
        if row.type == "bigger":
            assert row.answer in list(row.options) and len(row.options) == 2
    assert rows["image"].str.endswith(".png").all() and rows["caption"].str.startswith("scene").all()


def test_the_hand_made_scenes_ask_what_is_clear_and_nothing_else(scenes):
    rows = thinker_questions(scenes, held=NONE)
    asked = {(r.scene, r.type): (r.question, r.answer) for r in rows.itertuples()}
    assert asked[(0, "bigger")][1] == "moon"
    assert asked[(0, "how_many_more")][0].startswith("How many more apples")
    assert asked[(0, "left_of")][1] == ("yes" if asked[(0, "left_of")][0].startswith("Is the dog") else "no")
    # the cat and the owl are level and alike in size: only their counts are asked
    assert {t for s, t in asked if s == 1} == {"count_among"}
    assert not [s for s, _ in asked if s == 4]  # "the potato chip" names "the chip" too: nothing is clear
    teacher = rows.set_index("qid").loc[rows["qid"][0], "steps"]
    assert len(teacher) == 2 and all(isinstance(step, str) for step in teacher)


def test_validation_held_out_concepts_and_test_splits_never_appear(scenes, make_split, tmp_path):
    rows = thinker_questions(scenes, held=HeldOut(["yak"]))
    assert set(rows["scene"]) == {0, 1}  # 2 is validation, 3 shows a yak, 4 has nothing clear
    text = " ".join(" ".join([r.question, r.answer, r.caption, *r.steps]) for r in rows.itertuples())
    assert "yak" not in text and "zebra" not in text and "fox" not in text
    assert 3 in set(thinker_questions(scenes, held=NONE)["scene"])  # the yak's scene is asked when not held
    # the templates' own words are no concept: a list holding "than" keeps the comparisons
    assert "more_than" in set(thinker_questions(scenes, held=HeldOut(["than"]))["type"])
    test = make_split(tmp_path / "test-unseen", [(0, "owl", 10, 10, 900), (0, "cat", 200, 200, 900)],
                       {0: "an owl and a cat."}, split="test-unseen")
    with pytest.raises(SteervisError, match="train split only"):
        thinker_questions(test, held=NONE)
    with pytest.raises(SteervisError, match="steervis data build scenes"):
        thinker_questions(tmp_path / "missing", held=NONE)


def test_a_draw_takes_the_types_in_turn_and_is_seeded(crowd):
    drawn = thinker_questions(crowd, n=12, seed=3, held=NONE)
    assert Counter(drawn["type"]) == {t: 2 for t in TYPES}
    assert drawn["qid"].tolist() == thinker_questions(crowd, n=12, seed=3, held=NONE)["qid"].tolist()
    assert set(drawn["qid"]) != set(thinker_questions(crowd, n=12, seed=4, held=NONE)["qid"])
    only = thinker_questions(crowd, n=5, held=NONE, types=("bigger",))
    assert len(only) == 5 and set(only["type"]) == {"bigger"}
    with pytest.raises(SteervisError, match="Unknown question type 'colour'"):
        thinker_questions(crowd, held=NONE, types=("colour",))
