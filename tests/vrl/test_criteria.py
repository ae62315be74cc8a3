"""Criteria: parsing verbalizer answers, merging duplicates, dropping class-naming ones, the editable file."""

from __future__ import annotations

import pytest

from steervis.errors import SteervisError
from steervis.vrl.criteria import (
    Criterion,
    drop_class_naming,
    merge,
    parse_commonalities,
    parse_differences,
    read_criteria,
    write_criteria,
)


def test_differences_become_contrasts_in_every_spelling():
    answer = ("- striped fur | plain fur\n"
              "2. Image 1: long tail; Image 2: short tail\n"
              "* **round ears** vs pointed ears.\n"
              "- a green background\n"
              "- same | same\n")
    found = parse_differences(answer, ("cat", "dog"))
    assert [(c.kind, c.line()) for c in found] == [
        ("contrast", "striped fur | plain fur"), ("contrast", "long tail | short tail"),
        ("contrast", "round ears | pointed ears"), ("question", "a green background"), ("question", "same")]
    assert all(c.sources == ("cat", "dog") for c in found)


def test_sides_echoed_on_lines_of_their_own_pair_up_and_lose_their_labels():
    answer = ("- What image 1 has: A face\n- What image 2 has: A hat\n"
              "- What image 1 has: striped fur\n- a long tail\n"
              "- Image 2: red wings\n"
              "- what image 1 has: pointed ears | what image 2 has: round ears\n"
              "- Image 1 shows: a beak")
    assert [c.line() for c in parse_differences(answer)] == [
        "A face | A hat", "striped fur", "a long tail", "red wings", "pointed ears | round ears", "a beak"]


def test_commonalities_keep_short_labels_and_drop_the_files_markers():
    found = parse_commonalities("- whiskers: thin hairs on the face\n- #ff0000 colour\n-\n- x", ("cat",))
    assert [c.text for c in found] == ["whiskers", "ff0000 colour"]


def test_duplicates_merge_on_normalised_text_and_a_reversed_contrast_is_one():
    merged = merge([Criterion("Pointed ears.", sources=("cat",)),
                    Criterion("the pointed  ears", sources=("fox",)),
                    Criterion("red", "contrast", "green", ("a", "b")),
                    Criterion("Green", "contrast", "red", ("c", "d")), Criterion("red")])
    assert [c.line() for c in merged] == ["Pointed ears.", "red | green", "red"]
    assert merged[0].sources == ("cat", "fox") and merged[1].sources == ("a", "b", "c", "d")


def test_criteria_naming_a_class_are_dropped_and_the_share_reported():
    crits = [Criterion("pointed ears"), Criterion("looks like a cat"),
             Criterion("fur", "contrast", "dogs' fur"), Criterion("long tail")]
    kept, share = drop_class_naming(crits, ["cat", "dog"])
    assert [c.text for c in kept] == ["pointed ears", "long tail"] and share == 0.5
    assert drop_class_naming([], ["cat"]) == ([], 0.0)


def test_a_criterion_has_the_sides_of_its_kind():
    with pytest.raises(SteervisError, match="two sides"):
        Criterion("red", "contrast")
    with pytest.raises(SteervisError, match="kind"):
        Criterion("red", "colour")


def test_the_criteria_file_round_trips_and_reads_hand_edits(tmp_path):
    crits = [Criterion("striped fur", "contrast", "plain fur", ("cat", "dog")),
             Criterion("whiskers", sources=("cat",)), Criterion("long tail")]
    path = write_criteria(tmp_path / "criteria.txt", crits)
    again = read_criteria(path)
    assert again == crits and [c.sources for c in again] == [c.sources for c in crits]
    path.write_text(path.read_text() + "\n# a note\nwet nose\nwhiskers  # added twice\n")
    assert [c.line() for c in read_criteria(path)] == ["striped fur | plain fur", "whiskers", "long tail",
                                                        "wet nose"]


@pytest.mark.parametrize(("text", "message"), [("red |\n", "empty side"), ("# nothing\n\n", "no criterion")])
def test_a_bad_criteria_file_is_one_sentence(tmp_path, text, message):
    path = tmp_path / "c.txt"
    path.write_text(text)
    with pytest.raises(SteervisError, match=message):
        read_criteria(path)
    with pytest.raises(SteervisError, match="does not exist"):
        read_criteria(tmp_path / "absent.txt")
