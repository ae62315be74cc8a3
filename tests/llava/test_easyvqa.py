"""easy-vqa's three splits: val is held out of training, the diagnosis subset is fixed, items are single."""

import re
from collections import Counter

import pytest

from steervis.errors import SteervisError

pytest.importorskip("easy_vqa")

from steervis.llava import easyvqa  # noqa: E402


def test_the_splits_partition_the_images_and_val_is_an_eighth_of_train():
    train, val, test = (set(easyvqa.questions(s)) for s in easyvqa.SPLITS)
    assert (len(train), len(val), len(test)) == (3500, 500, 1000)
    assert not train & val
    assert set(easyvqa.paths("val")) == val


def test_the_diagnosis_subset_is_fixed_and_drawn_from_val():
    rows = easyvqa.diagnosis_rows()
    assert len(rows) == easyvqa.DIAGNOSIS_QUESTIONS == len(set(rows))
    assert {i for i, _, _ in rows} <= set(easyvqa.questions("val"))
    assert rows == easyvqa.diagnosis_rows()


def test_the_whole_test_split_is_mostly_yes_no():
    kinds = Counter(easyvqa.question_kind(q) for _, q, _ in easyvqa.rows("test"))
    assert sum(kinds.values()) == 9673
    assert 0.70 < kinds["yes/no"] / 9673 < 0.78 and kinds["color"] > 1000 and kinds["shape"] > 1000


def test_training_items_ask_one_question_each_and_never_a_validation_image():
    from steervis.llava.data import vqa_items
    from steervis.llava.questions import SHORT_ANSWER

    items = vqa_items(20, SHORT_ANSWER, seed=3)
    val_paths = set(easyvqa.paths("val").values())
    assert len({it.path for it in items}) == 20 and len(items) > 150  # every question of each image
    assert all(len(it.turns) == 1 and it.turns[0][0].startswith("<image>\n") for it in items)
    assert all(it.turns[0][0].endswith(SHORT_ANSWER) for it in items)
    assert not {it.path for it in items} & val_paths
    assert not {it.path for it in vqa_items(3500, "", seed=0)} & val_paths


def test_stage1_captions_say_colour_and_shape_of_training_images_only():
    from steervis.llava.data import vqa_caption_items

    items = vqa_caption_items(40, seed=1)
    assert len(items) >= 35 and not {it.path for it in items} & set(easyvqa.paths("val").values())
    for it in items:
        (user, caption), = it.turns
        words = caption.rstrip(".").split()
        assert user == "<image>\n" and words[0] == "a" and words[-1] in (*easyvqa.SHAPES, "shape")


def test_colour_and_shape_agree_with_every_question_of_the_image():
    for pairs in list(easyvqa.questions("val").values())[:200]:
        colour, shape = easyvqa.image_colour(pairs), easyvqa.image_shape(pairs)
        for q, a in pairs:
            if q.startswith("what") and "color" in q:
                assert a == colour
            if q in (f"is there a {colour} shape?", f"does the image contain a {shape}?"):
                assert a == "yes"


def test_redrawn_yes_no_questions_ask_about_what_is_there_half_the_time_and_keep_easy_vqas_labels():
    import re

    rows = easyvqa.rows("train", images=400, seed=0)
    yes_no = [r for r in rows if easyvqa.question_kind(r[1]) == "yes/no"]
    redrawn = easyvqa.redraw_yes_no(yes_no, seed=0)
    asked = {(i, q): a for i, q, a in rows}
    also_asked = [(i, q, a) for i, q, a in redrawn if (i, q) in asked]
    assert len(also_asked) > 100 and all(asked[(i, q)] == a for i, q, a in also_asked)  # the labels agree
    plain = [a for _, q, a in redrawn if not re.search(r"\b(not|no)\b", q)]
    before = [a for _, q, a in yes_no if not re.search(r"\b(not|no)\b", q)]
    assert sum(a == "yes" for a in before) / len(before) < 0.25  # easy-vqa asks mostly about what is absent
    assert 0.4 < sum(a == "yes" for a in plain) / len(plain) < 0.6
    assert [r[0] for r in redrawn] == [r[0] for r in yes_no]  # the same images, one question each


def _said(question: str, fact: str) -> str:
    """What a stated fact answers to a yes/no question: every colour and shape it names is in the fact,
    unless it negates."""
    import re

    named = [w for w in (*easyvqa.COLOURS, *easyvqa.SHAPES) if re.search(rf"\b{w}\b", question)]
    present = all(re.search(rf"\b{w}\b", fact) for w in named)
    return "yes" if present != easyvqa.negates(question) else "no"


def test_told_items_state_the_images_truth_in_words_and_it_answers_them():
    from steervis.llava.data import shows_image, vqa_items

    told = [it for it in vqa_items(40, "Answer.", redraw_yes_no=True, told="only") if not shows_image(it)]
    assert len(told) > 150 and not any("<image>" in user for it in told for user, _ in it.turns)
    for it in told:
        (user, answer), = it.turns
        fact, question, suffix = user.split("\n")
        assert re.fullmatch(r"The image shows a \w+ \w+\.", fact) and suffix == "Answer."
        assert easyvqa.question_kind(question) == "yes/no" and _said(question, fact) == answer
    assert 0.3 < sum(it.turns[0][1] == "yes" for it in told) / len(told) < 0.7  # redrawn: either answer


def test_mixed_told_items_ask_each_yes_no_question_once_told_and_once_with_its_image():
    from steervis.llava.data import shows_image, vqa_items

    off, only, mix = (vqa_items(20, "", redraw_yes_no=True, told=t) for t in ("off", "only", "mix"))
    assert len(only) == len(off) and [it.turns for it in off if shows_image(it)] == [
        it.turns for it in mix if shows_image(it)]  # mix adds told copies to every shown question
    told = [it for it in mix if not shows_image(it)]
    assert [it.turns for it in told] == [it.turns for it in only if not shows_image(it)]
    shown_yes_no = {(it.path, it.turns[0][0].removeprefix("<image>\n")) for it in off
                    if easyvqa.question_kind(it.turns[0][0].removeprefix("<image>\n")) == "yes/no"}
    told_questions = {(it.path, it.turns[0][0].split("\n", 1)[1]) for it in told}
    assert told_questions <= shown_yes_no and len(told_questions) > len(shown_yes_no) / 2


def test_stated_items_say_the_images_truth_before_the_same_yes_or_no():
    from steervis.llava.data import vqa_items

    plain, stated = (vqa_items(20, "Answer.", redraw_yes_no=True, stated=s) for s in (False, True))
    qa = easyvqa.questions("train")
    paths = {v: k for k, v in easyvqa.paths("train").items()}
    changed = 0
    for before, after in zip(plain, stated, strict=True):
        (q_before, a_before), = before.turns
        (q_after, a_after), = after.turns
        if before.turns == after.turns:  # not yes/no, or its image's truth is not stated
            pairs = qa[paths[before.path]]
            assert easyvqa.question_kind(q_before.split("\n")[1]) != "yes/no" or easyvqa.stated_answer(
                pairs, a_before) is None
            continue
        changed += 1
        pairs = qa[paths[after.path]]
        assert q_after == q_before.replace("Answer.", easyvqa.STATED_SUFFIX)
        assert a_after == f"a {easyvqa.image_colour(pairs)} {easyvqa.image_shape(pairs)}, so {a_before}."
        assert easyvqa.final_answer(a_after) == a_before
    assert changed > len(plain) / 2  # most questions are yes/no, most images' truth is stated
    with pytest.raises(SteervisError, match="told=off"):
        vqa_items(2, "", stated=True, told="only")


def test_a_stage_trained_stated_answers_its_yes_no_questions_stated():
    from steervis.llava.train import StageSettings, build_items

    settings = dict(stage=2, pool_items=0, describe_items=0, vqa_images=10, vqa_redraw_yes_no=True)
    plain = build_items(StageSettings(**settings))
    stated = build_items(StageSettings(**settings, vqa_stated=True))
    assert len(plain) == len(stated)
    said = [it.turns[0][1] for it in stated if it.turns[0][0].endswith(easyvqa.STATED_SUFFIX)]
    assert said and all(re.fullmatch(r"a \w+ \w+, so (yes|no)\.", a) for a in said)
