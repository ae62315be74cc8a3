"""vlm-diagnose on the tiny VLM: each check's shape, packed and single items, colour labels from questions."""

import pytest

pytest.importorskip("easy_vqa")

from steervis.errors import SteervisError  # noqa: E402
from steervis.llava.easyvqa import image_colour  # noqa: E402
from steervis.studies import STUDIES  # noqa: E402
from steervis.studies.vlm_diagnose import _items  # noqa: E402


def test_the_colour_comes_from_the_images_own_questions():
    assert image_colour([("is there a red shape?", "no"), ("what color is the shape?", "teal")]) == "teal"
    assert image_colour([("what is the blue shape?", "circle")]) == "blue"
    assert image_colour([("is there not a red shape?", "yes"), ("is there a gray shape?", "yes")]) == "gray"
    negated = ("is no blue shape present?", "yes")
    assert image_colour([negated, ("what is the color of the shape?", "red")]) == "red"
    assert image_colour([negated, ("does the image contain a circle?", "yes")]) is None


def test_packed_items_hold_every_question_of_an_image_and_the_image_once():
    single, packed = _items(3, "single", 0, ""), _items(3, "packed", 0, "")
    assert len(packed) == 3 and sum(len(p.turns) for p in packed) == len(single)
    for conv in packed:
        users = [user for user, _ in conv.turns]
        assert users[0].startswith("<image>\n") and not any("<image>" in u for u in users[1:])


def test_overfit_scores_the_examples_it_trained_on(tmp_home):
    out = STUDIES.get("vlm-diagnose")(check="overfit", init="tiny-vlm", examples=8, epochs=2, batch_size=4)
    assert out["examples"] == 8 and out["training"]["steps"] == 4
    acc, low, high = out["fit"]["all"]
    assert 0 <= low <= acc <= high <= 100


def test_a_training_run_is_scored_with_its_image_without_it_and_with_another(tmp_home):
    out = STUDIES.get("vlm-diagnose")(check="train", init="tiny-vlm", images=2, questions=24, batch_size=8)
    for condition in ("with_image", "without_image", "other_image"):
        assert set(out[condition]) >= {"all", "yes/no"}
    assert out["training"]["conversations"] > 10 and out["turns"] == "single"


@pytest.mark.slow
def test_colour_probes_read_the_tower_above_chance(tmp_home):
    out = STUDIES.get("vlm-diagnose")(check="probe", init="tiny-vlm", images=80, probe_val=80)
    assert out["colour_probe"]["val_images"] == 80
    places = [k for k in out["colour_probe"] if k not in ("train_images", "val_images")]
    assert places[:2] == ["tower tokens", "projector output"] and places[2].startswith("LM layer")
    assert out["colour_probe"]["tower tokens"][0] > 40  # eight colours: chance is 12.5 %


def test_an_unknown_check_is_one_sentence():
    with pytest.raises(SteervisError, match="check must be one of"):
        STUDIES.get("vlm-diagnose")(check="everything")


def test_balanced_items_ask_each_kind_equally_often_from_the_same_images():
    from steervis.llava.easyvqa import question_kind

    every, balanced = _items(30, "single", 0, ""), _items(30, "single", 0, "", balanced=60)
    kinds = [question_kind(it.turns[0][0].removeprefix("<image>\n")) for it in balanced]
    assert len(balanced) == 60 and {kinds.count(k) for k in ("yes/no", "color", "shape")} == {20}
    assert {it.path for it in balanced} <= {it.path for it in every}
    every_kinds = [question_kind(it.turns[0][0].removeprefix("<image>\n")) for it in every]
    assert every_kinds.count("color") < len(every) / 6  # easy-vqa itself asks colour rarely


def test_the_caption_check_scores_colour_and_shape_words(tmp_home):
    out = STUDIES.get("vlm-diagnose")(check="caption", init="tiny-vlm", images=6)
    assert out["images"] == 6 and len(out["examples"]) == 6
    for kind in ("color", "shape"):
        acc, low, high = out[kind]
        assert 0 <= low <= acc <= high <= 100


class _Recorder:
    """A VLM stand-in answering yes/no by the wording alone, recording what it was shown."""

    def __init__(self):
        self.prompts, self.visuals = [], []

    def ask(self, visuals, prompts, **_):
        from steervis.llava.easyvqa import wording_answer

        self.visuals += visuals
        self.prompts += prompts
        return [wording_answer(p.split("\n")[-2]) for p in prompts]


def test_answering_by_the_wording_scores_nothing_against_it():
    from steervis.studies.vlm_diagnose import _score

    rows = [(0, "is there a red shape?", "no"), (0, "is there a blue shape?", "yes"),
            (0, "is there not a circle?", "yes"), (0, "does the image not contain a red shape?", "no")]
    out = _score(_Recorder(), rows, [None] * 4, "Answer with one word.")
    assert out["yes/no"][0] == 50 and out["yes/no against wording"][0] == 0


def test_the_told_check_states_each_images_truth_in_words_and_shows_no_image():
    from steervis.studies.vlm_diagnose import _told

    vlm = _Recorder()
    out = _told(vlm, "Answer with one word.")
    assert out["questions"] > 500 and len(vlm.prompts) == out["questions"]  # most images' truth is stated
    assert all(p.startswith("The image shows a ") for p in vlm.prompts) and set(vlm.visuals) == {None}
    assert out["told"]["yes/no against wording"][0] == 0


def test_told_training_examples_hold_no_image_tokens_beside_shown_ones(tmp_home):
    from steervis.llava.data import shows_image, to_examples
    from steervis.llava.tower import FeatureCache
    from steervis.llava.vlms import open_vlm

    vlm = open_vlm("tiny-vlm")
    items = _items(2, "single", 0, "", redraw_yes_no=True, told="mix")
    examples, kept = to_examples(items, vlm, vlm.config.template, FeatureCache(vlm.tower))
    assert kept == items and 0 < sum(map(shows_image, items)) < len(items)
    for example, item in zip(examples, items, strict=True):
        placeholders = example.ids.count(vlm.image_id)
        if shows_image(item):
            assert placeholders == vlm.image_tokens and example.image is not None
        else:
            assert placeholders == 0 and example.image is None
            assert vlm.lm.tokenizer.decode(example.ids).count("The image shows a ") == 1


def test_a_run_trained_on_told_questions_is_scored_told_too(tmp_home):
    out = STUDIES.get("vlm-diagnose")(check="train", init="tiny-vlm", images=2, questions=24, batch_size=8,
                                      redraw_yes_no=True, train_told="mix")
    assert out["train_told"] == "mix" and 0 < out["told"]["questions"] <= 24
    assert set(out["told"]["told"]) >= {"all", "yes/no"} and out["training"]["conversations"] > 20
    with pytest.raises(SteervisError, match="leave turns at single"):
        STUDIES.get("vlm-diagnose")(check="train", turns="packed", train_told="only")


def test_answers_are_generated_unless_likelihood_is_asked_for():
    import inspect

    from steervis.studies.vlm_diagnose import vlm_diagnose

    assert inspect.signature(vlm_diagnose).parameters["answer"].default == "generate"
    with pytest.raises(SteervisError, match="answer must be one of"):
        STUDIES.get("vlm-diagnose")(check="told", answer="beam")


def test_likelihood_answers_pick_among_each_questions_candidates(tmp_home):
    from steervis.llava import easyvqa
    from steervis.llava.vlms import open_vlm
    from steervis.studies.vlm_diagnose import _score

    rows = [(0, "is there a red shape?", "no"), (0, "what color is the shape?", "teal"),
            (0, "what shape is in the image?", "circle"), (0, "is there a circle?", "yes")]
    out = _score(open_vlm("tiny-vlm"), rows, [None] * 4, "Answer with one word.", answer="likelihood")
    assert set(out) >= {"all", "yes/no", "color", "shape", "yes/no against wording", "reply opening"}
    picks = [e.split(" → ")[1] for e in out["examples"]]
    assert picks[0] in ("yes", "no") and picks[1] in easyvqa.COLOURS and picks[2] in easyvqa.SHAPES
    assert set(out["reply opening"]) >= {"all", "yes/no against wording"}
    said = out["said yes"]  # the two yes/no rows: wording no, truth no (picked first) and truth yes (last)
    assert set(said) == {"wording no, truth no", "wording no, truth yes"}
    assert said["wording no, truth no"][0] == (100.0 if picks[0] == "yes" else 0.0)


class _Stater(_Recorder):
    """A VLM stand-in that says every image shows a red circle, then answers by comparing words."""

    def ask(self, visuals, prompts, **_):
        import re

        from steervis.llava.easyvqa import STATED_SUFFIX, negates

        self.prompts += prompts
        replies = []
        for p in prompts:
            question, suffix = p.split("\n")[-2:]
            if suffix != STATED_SUFFIX:
                replies.append("red")
                continue
            present = not re.search(r"\b(blue|green|triangle|rectangle)\b", question)
            replies.append(f"a red circle, so {'yes' if present != negates(question) else 'no'}.")
        return replies


def test_stated_scoring_reads_the_replys_last_yes_or_no_and_checks_what_it_named():
    from steervis.llava import easyvqa
    from steervis.studies.vlm_diagnose import _score

    qa = easyvqa.questions("val")
    red_circle = [i for i, pairs in qa.items() if easyvqa.image_colour(pairs) == "red"
                  and easyvqa.image_shape(pairs) == "circle"][0]
    blue_other = [i for i, pairs in qa.items() if easyvqa.image_colour(pairs) == "blue"
                  and easyvqa.image_shape(pairs) not in (None, "circle")][0]
    rows = [(red_circle, "is there a red shape?", "yes"), (red_circle, "is there not a circle?", "no"),
            (blue_other, "is there a blue shape?", "yes"), (red_circle, "what color is the shape?", "red")]
    vlm = _Stater()
    out = _score(vlm, rows, [None] * 4, "Answer with one word.", stated=True)
    assert [p.split("\n")[-1] for p in vlm.prompts] == [easyvqa.STATED_SUFFIX] * 3 + ["Answer with one word."]
    third = pytest.approx(200 / 3, abs=0.1)  # the blue image was called a red circle
    assert out["yes/no"][0] == third and out["color"][0] == 100
    assert out["statement"]["names color"][0] == third and out["statement"]["names shape"][0] == third
    assert out["examples"][0] == "is there a red shape? → a red circle, so yes."


def test_a_stated_run_trains_and_scores_stated_replies_and_refuses_other_checks(tmp_home):
    out = STUDIES.get("vlm-diagnose")(check="train", init="tiny-vlm", images=2, questions=24, batch_size=8,
                                      redraw_yes_no=True, stated_yes_no=True)
    assert out["stated_yes_no"] and "statement" in out["with_image"]
    with pytest.raises(SteervisError, match="check=train"):
        STUDIES.get("vlm-diagnose")(check="told", stated_yes_no=True)
