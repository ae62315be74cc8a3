"""VRL's VLM half on a tiny random steervis LLaVA: two images spliced each at its own placeholder, the VLM
verbalizer's answers cached, the yes/no mapping equal to the likelihoods it is read from, and its scores
cached per image × question."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steervis.errors import SteervisError
from steervis.identity import BEHAVIOUR
from steervis.llava.likelihood import answer_logprobs
from steervis.methods.context import MethodContext
from steervis.methods.vlm import image_inputs
from steervis.methods.vrl import VRL
from steervis.methods.vrl_vlm import PAIR_DIFFERENCE, VLMMapper, pair_prompt
from steervis.prune import stale_entries
from steervis.vrl.criteria import Criterion


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    from steervis.data import load_folder, make_toy_dataset

    root = make_toy_dataset(tmp_path_factory.mktemp("toy"), domains=("photo",), per_class=2, size=32)
    frame = load_folder(root).frame.reset_index(drop=True)
    return frame.assign(key=frame["path"].astype(str))


@pytest.fixture
def context(tmp_home):
    return MethodContext(progress=False)


def test_two_images_fill_their_own_placeholders_in_order(context, toy):
    vlm = context.vlm("tiny-vlm", "cpu")
    first, second = image_inputs(vlm, toy.iloc[[0, 3]], context)
    prompt = pair_prompt(vlm, PAIR_DIFFERENCE, first, second)
    ids = torch.tensor([prompt.ids])
    slots = (ids[0] == vlm.image_id).nonzero().squeeze(1)
    assert len(slots) == 2 * vlm.image_tokens and slots[vlm.image_tokens] > slots[vlm.image_tokens - 1] + 1
    with torch.no_grad():
        embeds = vlm.lm.embed(ids, [prompt.image])[0]
        projected = vlm.lm.splicer.projector(torch.stack([first, second]))
    torch.testing.assert_close(embeds[slots[: vlm.image_tokens]], projected[0])
    torch.testing.assert_close(embeds[slots[vlm.image_tokens :]], projected[1])


def test_a_hub_llava_is_refused_in_one_sentence():
    class HubLlava:
        image_processor = object()

    with pytest.raises(SteervisError, match="two images in one prompt"):
        pair_prompt(HubLlava(), PAIR_DIFFERENCE, None, None)


def test_the_mapping_is_the_log_odds_of_yes_for_each_criterion_question(context, toy):
    vlm = context.vlm("tiny-vlm", "cpu")
    torch.manual_seed(0)
    with torch.no_grad():  # wider weights: images visibly move the scores
        for p in vlm.lm.splicer.projector.parameters():
            p.normal_(0, 0.5)
    criteria = [Criterion("red skin"), Criterion("round", "contrast", "square")]
    scores = VLMMapper(vlm, context).scores(toy, criteria)
    visuals = image_inputs(vlm, toy, context)
    for j, criterion in enumerate(criteria):
        logp = answer_logprobs(vlm, visuals, [criterion.question()] * len(toy), ["yes", "no"])
        np.testing.assert_allclose(scores[:, j], logp[:, 0] - logp[:, 1], rtol=1e-4, atol=1e-4)
    assert scores.shape == (len(toy), 2) and np.ptp(scores[:, 0]) > 0


@pytest.fixture
def asked(monkeypatch):
    """Every question the VLM mapping puts to the VLM, once per image it is asked about."""
    import steervis.llava.likelihood as likelihood

    questions = []
    real = likelihood.reply_logprobs

    def counting(vlm, images, asked, *args, **kwargs):
        questions.extend(asked)
        return real(vlm, images, asked, *args, **kwargs)

    monkeypatch.setattr(likelihood, "reply_logprobs", counting)
    return questions


def test_the_vlm_mapping_is_cached_per_image_and_question(context, toy, asked, tmp_home, monkeypatch):
    vlm = context.vlm("tiny-vlm", "cpu")
    criteria = [Criterion("red skin"), Criterion("round", "contrast", "square")]
    first = VLMMapper(vlm, context, name="tiny-vlm", precision="float32").scores(toy, criteria)
    assert len(asked) == 2 * len(toy)
    uncached = VLMMapper(vlm, context).scores(toy, criteria)  # read straight from the likelihoods
    np.testing.assert_allclose(first, uncached, rtol=1e-5, atol=1e-5)
    del asked[:]
    again = VLMMapper(vlm, context, name="tiny-vlm", precision="float32")
    np.testing.assert_array_equal(again.scores(toy, criteria), first)
    opening = VLMMapper(vlm, context, whole=False, name="tiny-vlm", precision="float32")
    assert not np.allclose(opening.scores(toy, criteria), first)  # the other reading, kept from the same pass
    np.testing.assert_array_equal(again.scores(toy.iloc[[3, 1]], criteria), first[[3, 1]])
    assert asked == []
    edited = [criteria[0], Criterion("round", "contrast", "oval")]
    scores = again.scores(toy, edited)
    assert asked == [edited[1].question()] * len(toy)  # only the edited criterion is asked again
    np.testing.assert_array_equal(scores[:, 0], first[:, 0])
    assert not np.allclose(scores[:, 1], first[:, 1])
    assert stale_entries(tmp_home) == []  # `steervis cache prune` keeps what today's keys reach
    folder = again.cache.store.dir
    for other in (VLMMapper(vlm, context, name="tiny-vlm", precision="bfloat16"),
                  VLMMapper(vlm, context, name="tiny-vlm", precision="float32", batch_size=4)):
        assert other.cache.store.dir != folder  # another precision or batching: another store
    monkeypatch.setitem(BEHAVIOUR, "llava", BEHAVIOUR["llava"] + 1)  # a new VLM code: the scores are stale
    assert folder in stale_entries(tmp_home)
    assert VLMMapper(vlm, context, name="tiny-vlm", precision="float32").cache.store.dir != folder
    with pytest.raises(SteervisError, match="precision"):
        VLMMapper(vlm, context, name="tiny-vlm")


def test_vrl_with_the_vlm_verbalizer_and_mapping_asks_once_per_pair_set(context, toy, monkeypatch, asked):
    import steervis.lm.generate as gen

    calls = []
    real = gen.generate
    monkeypatch.setattr(gen, "generate", lambda lm, prompts, **kw: calls.append(len(prompts)) or
                        real(lm, prompts, **kw))
    options = {"verbalizer": "vlm", "mapping": "vlm", "vlm": "tiny-vlm", "device": "cpu", "max_new_tokens": 6}
    classes = sorted(toy["class"].unique())
    clf = VRL(context, **options).fit(toy, classes)
    assert calls == [6]  # three difference and three commonality pairs, one batch
    assert len(asked) == len(clf.criteria_list) * len(toy)
    proba = clf.predict_proba(toy)
    assert proba.shape == (len(toy), len(classes)) and np.allclose(proba.sum(1), 1)
    again = VRL(context, **options, classifier="tree").fit(toy, classes)
    assert calls == [6] and again.criteria_list == clf.criteria_list
    np.testing.assert_allclose(again.predict_proba(toy).sum(1), 1)
    assert len(asked) == len(clf.criteria_list) * len(toy)  # the refit and both predictions read the cache
    with pytest.raises(SteervisError, match="no mapping 'clip'"):
        VRL(context, mapping="clip")
