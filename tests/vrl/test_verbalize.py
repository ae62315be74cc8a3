"""The verbalizer: pairs from the shots only, the describe + text LM setting, the two controls."""

from __future__ import annotations

from collections import Counter

import pytest

from steervis.errors import SteervisError
from steervis.vrl.criteria import Criterion
from steervis.vrl.verbalize import (
    ClassNamesLM,
    DescribeThenLM,
    class_name_pairs,
    draw_pairs,
    lm_asker,
    shuffle_criteria,
    verbalize,
)

LABELS = ["cat", "cat", "dog", "dog", "dog", "car"]


def test_pairs_come_from_the_shots_and_one_shot_gives_no_commonality():
    pairs = draw_pairs(LABELS, per_pair=2, seed=1)
    for p in pairs:
        assert (LABELS[p.first], LABELS[p.second]) == p.classes and p.first != p.second
    kinds = Counter((p.kind, p.classes) for p in pairs)
    assert kinds[("difference", ("cat", "dog"))] == 2 and kinds[("difference", ("car", "cat"))] == 2
    assert kinds[("commonality", ("dog", "dog"))] == 2 and kinds[("commonality", ("cat", "cat"))] == 1
    assert ("commonality", ("car", "car")) not in kinds  # one shot: no two images of the class
    assert draw_pairs(LABELS, per_pair=2, seed=1) == pairs and len(draw_pairs(LABELS, 2, max_pairs=3)) == 3


def test_super_categories_keep_differences_inside_a_super_category():
    super_of = {"cat": "animal", "dog": "animal", "car": "vehicle"}
    differences = {p.classes for p in draw_pairs(LABELS, super_of=super_of) if p.kind == "difference"}
    assert differences == {("cat", "dog")}
    assert {p.classes for p in class_name_pairs(["car", "cat", "dog"], super_of)
            if p.kind == "difference"} == {("cat", "dog")}
    with pytest.raises(SteervisError, match="no entry for car"):
        draw_pairs(LABELS, super_of={"cat": "animal", "dog": "animal"})


class Recorder:
    """A text LM whose answers are fixed: it records what it was asked."""

    def __init__(self, difference: str, commonality: str):
        self.answers, self.questions = {"differences": difference, "share": commonality}, []

    def __call__(self, questions):
        self.questions += questions
        return [self.answers["differences" if "differences" in q else "share"] for q in questions]


def test_describe_then_lm_reads_the_pairs_descriptions_and_drops_class_naming_criteria():
    ask = Recorder("- striped fur | plain fur\n- a dog collar | no collar", "- whiskers\n- four legs")
    descriptions = ["orange stripes", "grey stripes", "a collar", "brown fur"]
    pairs = draw_pairs(LABELS[:4])
    said = verbalize(DescribeThenLM(ask, descriptions), pairs, ["cat", "dog"])
    assert [c.line() for c in said.criteria] == ["striped fur | plain fur", "whiskers", "four legs"]
    assert said.dropped_share == 0.25 and len(said.answers) == 3
    assert said.criteria[1].sources == ("cat", "dog")  # both classes' commonality answers merged into one
    first, second = descriptions[pairs[0].first], descriptions[pairs[0].second]
    assert f"Image 1: {first}\nImage 2: {second}" in ask.questions[0] and "stripes" in first


def test_the_class_names_control_shows_names_and_no_description():
    ask = Recorder("- pointed ears | floppy ears", "- fur")
    said = verbalize(ClassNamesLM(ask), class_name_pairs(["big_cat", "dog"]), ["big_cat", "dog"])
    assert [c.line() for c in said.criteria] == ["pointed ears | floppy ears", "fur"]
    assert "the big cat and the dog" in ask.questions[0] and "Image" not in ask.questions[0]


def test_the_class_names_control_draws_at_most_max_pairs_as_the_image_pairs_are_drawn():
    classes = ["ant", "bee", "car", "cat", "dog", "fox"]
    every = class_name_pairs(classes)
    assert len(every) == 15 + 6 and class_name_pairs(classes, max_pairs=21) == every
    drawn = class_name_pairs(classes, max_pairs=5, seed=1)
    assert len(drawn) == 5 and drawn == [p for p in every if p in drawn]  # a subset, in the full list's order
    assert class_name_pairs(classes, max_pairs=5, seed=1) == drawn != class_name_pairs(classes, max_pairs=5)
    super_of = {"ant": "insect", "bee": "insect", "car": "vehicle", "cat": "pet", "dog": "pet", "fox": "pet"}
    inside = class_name_pairs(classes, super_of, max_pairs=4, seed=2)
    assert len(inside) == 4 and set(inside) <= set(class_name_pairs(classes, super_of))


def test_the_shuffled_control_keeps_the_words_and_the_forms():
    crits = [Criterion("striped orange fur", "contrast", "plain grey fur"), Criterion("long thin tail"),
             Criterion("pointed ears")]
    shuffled = shuffle_criteria(crits, seed=3)
    words = Counter(w for c in crits for p in c.phrases() for w in p.split())
    assert Counter(w for c in shuffled for p in c.phrases() for w in p.split()) <= words
    assert [c.kind for c in shuffled] == [c.kind for c in crits]
    assert [c.line() for c in shuffled] != [c.line() for c in crits]


def test_a_tiny_lm_answers_every_question_as_a_list():
    from steervis import zoo
    from steervis.lm.model import LanguageModel

    ask = lm_asker(LanguageModel(zoo.load("tiny-llama", kind="causal-lm")), max_new_tokens=4)
    answers = ask(["List the differences.", "List what they share."])
    assert len(answers) == 2 and all(a.startswith("-") for a in answers)
