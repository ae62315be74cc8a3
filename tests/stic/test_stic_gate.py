"""The gate: CHAIR-style hallucination, recall and colour accuracy against hand-made scene truth, and a
verdict only where the paired interval shows it."""

import pytest

from steervis.stic.config import SticConfig
from steervis.stic.gate import SceneTruth, compare, gate, run_gate, scene_truths, score_description
from steervis.stic.pairs import Pair

VOCAB = ["apple", "dog", "moon", "cat", "lacrosse"]


def test_a_description_is_counted_by_the_names_the_class_rule():
    truth = SceneTruth(["lacrosse", "lacrosse", "moon"], {"lacrosse": {"yellow"}, "moon": {"white"}})
    s = score_description("Two yellow lacrosses, a grey moon and a hotdog.", truth, VOCAB)
    # "hotdog" names no dog; the plural names lacrosse; the moon's colour is stated and wrong
    assert (s.mentions, s.hallucinated, s.recalled, s.truth_names) == (2, 0, 2, 2)
    assert (s.colour_stated, s.colour_right) == (2, 1)
    s = score_description("A cat, a dog and a red apple next to nothing else.", truth, VOCAB)
    assert (s.mentions, s.hallucinated, s.recalled, s.any_hallucinated) == (3, 3, 0, 1)
    assert s.colour_stated == 0  # colours of absent objects are not colour accuracy


def test_a_colour_word_counts_only_just_before_the_name():
    truth = SceneTruth(["apple"], {"apple": {"red"}})
    far = score_description("The sky is blue and far below it there is an apple.", truth, VOCAB)
    near = score_description("There is a shiny red apple.", truth, VOCAB)
    assert (far.colour_stated, near.colour_stated, near.colour_right) == (0, 1, 1)


def pair(chosen: str, rejected: str) -> Pair:
    return Pair("x.png", "scene", 0, chosen, rejected, "prompt", "")


def test_faithful_preferred_descriptions_pass_and_swapped_ones_do_not():
    truths = [SceneTruth(["apple", "dog"], {"apple": {"red"}}), SceneTruth(["moon"], {"moon": {"yellow"}})]
    truths *= 8
    good = ["a red apple and a dog", "a yellow moon"] * 8
    bad = ["a green apple, a cat and a moon", "a blue moon, a dog and a lacrosse"] * 8
    report = gate([pair(g, b) for g, b in zip(good, bad, strict=True)], truths, VOCAB)
    assert report["scenes"] == 16 and report["verdict"] == "preferred better"
    assert report["chair_i"]["preferred"][0] == 0.0 and report["chair_i"]["dispreferred"][0] == 0.6667
    assert report["chair_i"]["difference"] == [-0.6667] * 3  # 2 of 3 mentions in every scene: no spread
    assert report["colour"]["preferred"][0] == 1.0 and report["colour"]["dispreferred"][0] == 0.0
    assert report["recall"]["preferred"][0] == 1.0 and report["recall"]["dispreferred"][0] == 0.6667  # no dog
    assert report["chair_s"]["difference"][0] == -1.0 and report["recall"]["preferred_better"]
    swapped = gate([pair(b, g) for g, b in zip(good, bad, strict=True)], truths, VOCAB)
    assert swapped["verdict"] == "not shown better" and not swapped["chair_i"]["preferred_better"]


def test_a_difference_inside_the_noise_is_not_a_verdict():
    truths = [SceneTruth(["apple"])] * 6
    report = compare([score_description(t, truths[0], VOCAB) for t in ["an apple", "a cat"] * 3],
                     [score_description(t, truths[0], VOCAB) for t in ["an apple", "a dog", "an apple"] * 2])
    assert report["verdict"] == "not shown better"
    low, high = report["chair_i"]["difference"][1:]
    assert low < 0 < high


def test_nothing_counted_is_none_not_nan():
    report = compare([score_description("an apple", SceneTruth(["apple"]), VOCAB)],
                     [score_description("an apple", SceneTruth(["apple"]), VOCAB)])
    assert report["colour"]["preferred"] is None and report["colour"]["difference"] is None


def test_scene_truth_comes_from_the_objects_table(toy_scenes):
    truths, vocabulary = scene_truths([2, 0], toy_scenes)
    assert truths[0].names == ["apple", "apple", "cat"] and truths[0].colours == {"apple": {"green"},
                                                                                   "cat": {"black"}}
    assert truths[1].colours == {"apple": {"red"}} and vocabulary == ["apple", "cat", "dog", "moon"]


def test_the_gate_runs_on_training_scenes_end_to_end(toy_scenes, scripted):
    truths, _ = scene_truths(range(6), toy_scenes)
    good = {str(toy_scenes / f"images/{i:06d}.png"): " and ".join(f"a {n}" for n in t.names)
            for i, t in enumerate(truths)}
    vlm = scripted(good, bad="a dog, a cat, an apple and a moon")
    report = run_gate(vlm, SticConfig(gate_scenes=6, seed=0), progress=False, root=toy_scenes)
    assert report["scenes"] == 6 and report["chair_i"]["preferred"][0] == 0.0
    assert report["verdict"] == "preferred better" and len(report["examples"]) == 3


@pytest.mark.parametrize("bad", [{"gate_scenes": 0}, {"temperature": -1}])
def test_impossible_settings_are_refused(bad):
    from steervis.errors import SteervisError

    with pytest.raises(SteervisError):
        SticConfig(**bad)
