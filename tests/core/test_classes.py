"""The one rule for "does this text name the class": whole words, any case, plurals, ``_``/``-`` as spaces."""

import pytest

from steervis.classes import class_pattern, class_words, named_classes, names_class, plurals
from steervis.lm.answers import snap_to_class
from steervis.methods.vlm import first_named
from steervis.react.retrieve import check_known
from steervis.studies.textshift import class_naming_rate


@pytest.mark.parametrize(("text", "cls"), [
    ("a cat on a mat", "cat"), ("CAT!", "cat"), ("two cats", "cat"), ("(cat)", "cat"),
    ("cat-like eyes", "cat"),
    ("city buses at night", "bus"), ("boxes of tea", "box"), ("churches", "church"), ("red berries", "berry"),
    ("toys", "toy"), ("kitchen knives", "knife"), ("autumn leaves", "leaf"), ("grey wolves", "wolf"),
    ("ripe tomatoes", "tomato"), ("three mice", "mouse"), ("children playing", "child"),
    ("a hot air balloon", "hot_air_balloon"), ("Hot-Air Balloons", "hot_air_balloon"),
    ("hot_air_balloon", "hot_air_balloon"), ("hot  air\nballoon", "hot air balloon"),
    ("a T shirt", "t-shirt"), ("t_shirts", "t-shirt"), ("ice creams", "ice cream"),
    ("a St. Bernard", "st. bernard"),
    ("cat_food", "cat"),  # an underscore in the text separates words, like a space
])
def test_names_the_class(text, cls):
    assert names_class(text, cls)


@pytest.mark.parametrize(("text", "cls"), [
    ("a category", "cat"), ("bobcat", "cat"), ("concatenate", "cat"), ("hotdog", "dog"), ("cat2", "cat"),
    ("tshirt", "t-shirt"), ("a shirt", "t-shirt"), ("hot air", "hot_air_balloon"),
    ("air balloon", "hot_air_balloon"),
    ("a pocketknife", "knife"), ("knifed", "knife"), ("a busy street", "bus"), ("an ice cream", "ice creams"),
    ("an automobile", "car"),  # no synonyms: only the class's own name and its plurals
    ("anything at all", ""), ("anything at all", "  "),
])
def test_does_not_name_the_class(text, cls):
    assert not names_class(text, cls)


def test_class_words_and_plurals():
    assert class_words("Hot_Air_Balloon") == ("hot air balloon", "hot air balloons")
    assert class_words("bus") == ("bus", "buss", "buses")
    assert class_words("knife") == ("knife", "knifes", "knives")
    assert class_words("giraffe") == ("giraffe", "giraffes")  # -ffe is not -fe: no "giraves"
    assert class_words("") == ()
    assert plurals("day") == ["days"] and plurals("city") == ["citys", "cities"]
    assert plurals("person") == ["persons", "people"]


def test_phrase_set_and_regex_are_cached_per_class():
    assert class_pattern("hot_air_balloon") is class_pattern("hot_air_balloon")
    assert class_words("zebra") is class_words("zebra")
    hits = [names_class(f"photo {i} of zebras", "zebra") for i in range(5000)]
    assert all(hits) and class_pattern.cache_info().hits > 0


def test_named_classes_in_class_order():
    classes = ["dog", "cat", "car", "hot_dog"]
    assert named_classes("Two cats and a dog", classes) == [0, 1]
    assert named_classes("hot dogs", classes) == [0, 3]
    assert named_classes("a cartoon", classes) == []


def test_snap_keeps_exact_answers_and_reads_plurals_and_underscores():
    classes = ["ice", "ice cream", "dog", "hot_dog", "t-shirt", "bus", "buses", "mice", "mouse"]
    # an answer that is exactly a class name maps to that class, in any case and with a full stop
    assert [snap_to_class(c, classes) for c in classes] == list(range(len(classes)))
    assert [snap_to_class(f"{c.upper()}.", classes) for c in classes] == list(range(len(classes)))
    assert snap_to_class("Hot dogs.", classes) == 3  # the longest class named
    assert snap_to_class("hot dog", classes) == 3 and snap_to_class("Two buses", classes) == 6
    assert snap_to_class("T-shirts", classes) == 4


def test_first_named_uses_the_rule_and_the_longest_mention():
    classes = ["cat", "dog", "ice", "ice cream", "hot_air_balloon"]
    assert first_named("Dogs chasing cats", classes) == [1, 0]
    assert first_named("Ice creams.", classes) == [3]
    assert first_named("a hot-air balloon over a category of things", classes) == [4]


def test_every_call_site_reads_the_same_rule():
    import pandas as pd

    from steervis.vllavo.describe.description import Description

    frame = pd.DataFrame({"domain": ["photo", "photo", "sketch"],
                          "class": ["hot_air_balloon", "berry", "cat"]})
    descs = [Description(captions=["Two hot-air balloons"]), Description(captions=["red berries"]),
             Description(captions=["a category"])]
    assert class_naming_rate(frame, descs, "captions") == {"photo": 1.0, "sketch": 0.0}
    unknown = check_known(["hot_air_balloon", "cat", "berry"], ["Hot air balloons", "a category", "berries"])
    assert unknown == ["cat"]
