"""DesCo: descriptions never name their class, a concept without one falls back to its name, the
similar-negative picker returns the nearest absent names, absent prompts and description prompts come at
their stated shares, a tiny grounder trains on them, the fingerprint of GLIP's runs stays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steervis.classes import names_class
from steervis.errors import SteervisError
from steervis.ground.descriptions import (
    Descriptions,
    build_descriptions,
    concept_descriptions,
    descriptor_description,
    pool_description,
)
from steervis.ground.queries import PromptSettings, QueryWriter, most_similar

# pool texts as the pool writes them: the name in the head, in keywords, as a plural, hyphenated, in the
# description sentence, and one text that says nothing once the name is gone
POOL = [
    ("apple", "apple", "a drawing of a red apple. two apples on a tree. keywords: apple, fruit, food"),
    ("apple", "green apple", "an emoji of a green apple. keywords: green apple, fruit, sour"),
    ("guitar", "electric guitar", "a photo of an electric guitar. keywords: guitars, music, string"),
    ("air_balloon", "hot air balloon", "a drawing of a hot-air-balloon. keywords: air balloons, sky"),
    ("air_balloon", "air balloon", "an emoji of an air balloon: red. an air_balloon at dawn. keywords: air"),
    ("knife", "knife", "a line-art emoji of a kitchen knife. keywords: knives, cut, cook"),
    ("cat", "cat", "a drawing of a cat."),
]
DESCRIPTORS = {"guitar": ["a guitar's long neck", "six strings"], "cat": ["the cat"], "knife": ["Knives!"]}


def test_descriptions_never_name_their_class():
    names = ["apple", "guitar", "air_balloon", "knife", "cat"]
    built = build_descriptions(names, POOL, DESCRIPTORS)
    texts = [(n, t) for n, ts in built.texts.items() for t in ts]
    assert len(texts) >= 7 and {n for n, _ in texts} == {"apple", "guitar", "air_balloon", "knife"}
    for name, text in texts:
        assert not names_class(text, name), (name, text)
        assert "." not in text and len(text.split()) <= 12  # one phrase of a prompt
    assert not any(names_class(t, "electric guitar") for t in built.texts["guitar"])
    assert "fruit" in built.texts["apple"][0] and "six strings" in " ".join(built.texts["guitar"])
    assert built.fallback == ["cat"] and built.of("cat") == ["cat"]  # "a drawing of a thing" says nothing


def test_one_text_at_a_time():
    assert pool_description("a drawing of a cat. keywords: cats", "cat") is None
    goat = pool_description("an emoji of a goat. keywords: farm, horns", "goat")
    assert goat == "an emoji of a thing, farm, horns"
    assert descriptor_description("eyes", "dog") == "something with eyes"
    assert descriptor_description("the dog's tail", "dog") == "the thing's tail"


def test_descriptions_come_from_the_scenes_objects_and_are_cached(tmp_home, tmp_path):
    folder = tmp_path / "scenes"
    folder.mkdir()
    rows = [{"part": "main", "name": n, "phrase": p, "text": t} for n, p, t in POOL]
    rows.append({"part": "val", "name": "cat", "phrase": "cat", "text": "a drawing of a cat. keywords: pet"})
    pd.DataFrame(rows).to_parquet(folder / "objects.parquet")
    first = concept_descriptions(["apple", "cat"], folder, "main", scenes=True)
    assert first.fallback == ["cat"] and first.key  # the validation object's text is not read
    again = concept_descriptions(["apple", "cat"], folder, "main", scenes=True)
    assert (again.texts, again.key) == (first.texts, first.key)
    assert len(list((tmp_home / "ground-descriptions").glob("*.json"))) == 2  # the file and its record
    both = concept_descriptions(["apple", "cat"], folder, "all", scenes=True)
    assert both.fallback == [] and both.key != first.key
    assert both.texts["cat"] == ["a drawing of a thing, pet"]


def test_a_descriptor_file_that_is_not_a_mapping_is_one_sentence(tmp_path):
    bad = tmp_path / "d.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(SteervisError, match="not a mapping"):
        concept_descriptions(["apple"], tmp_path, "main", scenes=False, descriptors=str(bad))


def test_the_similar_negative_picker_returns_the_nearest_absent_rows():
    angles = np.radians([0, 10, 20, 90, 170, 30])
    rows = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    assert most_similar(rows[0], rows, excluded=[0], k=3) == [1, 2, 5]
    assert most_similar(rows[0], rows, excluded=[0, 1], k=2) == [2, 5]
    assert most_similar(rows[[0, 3]], rows, excluded=[0, 3], k=2) == [1, 2]  # nearest to either target
    assert most_similar(rows[0], rows, excluded=[0], k=99) == [1, 2, 5, 3, 4]


def _writer(ratio, absent, similar=False, text=None):
    names = ["red", "green", "blue", "yellow", "black", "white"]
    described = Descriptions({n: [f"the colour {n[::-1]}", f"a hue like {n[::-1]}"] for n in names})
    settings = PromptSettings(description_ratio=ratio, absent_share=absent, similar_negatives=similar)
    return QueryWriter(settings, names, negatives=2, descriptions=described, text=text), described


def test_description_prompts_and_absent_ones_come_at_their_stated_shares():
    writer, described = _writer(ratio=0.4, absent=0.3)
    rng = np.random.default_rng(0)
    present = ["red", "blue", "red"]
    queries = [writer.write(present, rng) for _ in range(4000)]
    kinds = pd.Series([q.kind for q in queries]).value_counts(normalize=True)
    assert abs(kinds["names"] - 0.6) < 0.025
    assert abs(kinds["absent"] / (1 - kinds["names"]) - 0.3) < 0.035
    for q in queries:
        if q.kind == "absent":  # nothing in the image answers, and nothing present is described
            assert q.answers == [None, None, None]
            assert not {t for n in present for t in described.texts[n]} & set(q.phrases)
        elif q.kind == "description":
            (said,) = {q.phrases[a] for a in q.answers if a is not None}
            target = present[[a is not None for a in q.answers].index(True)]
            assert said in described.texts[target] and len(q.phrases) == 4
            assert [a is not None for a in q.answers].count(True) == present.count(target)
        else:
            assert [q.phrases[a] for a in q.answers] == present and len(q.phrases) == 4


class _Letters:
    """A text encoder stand-in whose sentence embedding is a word's letter counts."""

    def __init__(self):
        from steervis.ground.parts import TEXT_ENCODERS

        self.tokenizer = TEXT_ENCODERS.get("tiny-bert")(device="cpu").tokenizer

    def states(self, ids, mask):
        import torch

        words = self.tokenizer.batch_decode(ids, skip_special_tokens=True)
        counts = [[w.count(c) for c in "abcdefghijklmnopqrstuvwxyz"] for w in words]
        return torch.tensor(counts, dtype=torch.float32)[:, None, :].expand(-1, ids.shape[1], -1)


def test_similar_negatives_of_a_name_prompt_are_the_nearest_absent_names():
    writer, _ = _writer(ratio=0.0, absent=0.0, similar=True, text=_Letters())
    query = writer.write(["red"], np.random.default_rng(0))
    # by letters, "red" is nearest "green" then "yellow" / "blue" (one shared letter each beats none)
    assert sorted(query.phrases) == sorted(["red", "green", writer.vocabulary[most_similar(
        writer.names_emb[0], writer.names_emb, [0, 1], 1)[0]]])
    assert "green" in query.phrases and "black" not in query.phrases and "white" not in query.phrases


def test_bad_prompt_settings_are_one_sentence():
    with pytest.raises(SteervisError, match="absent_share=1.5 must be a share between 0 and 1"):
        PromptSettings(absent_share=1.5)
    with pytest.raises(SteervisError, match="No training concept has a description"):
        QueryWriter(PromptSettings(description_ratio=0.5), ["red"], 2, Descriptions())


def test_glip_settings_keep_their_run_fingerprint_and_desco_changes_it():
    import hashlib
    import json
    from dataclasses import asdict

    from steervis.ground.train import GroundSettings, fingerprint

    glip = GroundSettings()
    blob = {k: v for k, v in asdict(glip).items() if k not in ("infer", "prompts")}
    before = hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode())
    before.update(b"a\nb")
    assert fingerprint(glip, ["a", "b"]) == before.hexdigest()[:16]
    desco = GroundSettings(prompts=PromptSettings(description_ratio=0.5))
    assert fingerprint(desco, ["a", "b"], "k1") not in (fingerprint(glip, ["a", "b"]),
                                                       fingerprint(desco, ["a", "b"], "k2"))


@pytest.mark.parametrize("absent", [0.0, 1.0])
def test_absent_description_prompts_give_the_model_nothing_to_find(tmp_path, toy_coco_of, absent):
    from steervis.ground.coco import read_coco
    from steervis.ground.features import GridCache, image_keys
    from steervis.ground.model import GlipConfig
    from steervis.ground.parts import TEXT_ENCODERS
    from steervis.ground.train import GroundSettings, GroundTrain, train_head

    toy_coco = toy_coco_of([0, 1, 2])  # each image lacks a colour
    coco = read_coco(toy_coco)
    tiny = GlipConfig(trunk="tiny", stride=16, size=128, text="tiny-bert", hidden=16)
    settings = GroundSettings(coco=str(toy_coco), device="cpu", model=tiny,
                              train=GroundTrain(batch_size=3, max_steps=3, negatives=1),
                              prompts=PromptSettings(description_ratio=1.0, absent_share=absent))
    paths = [i.path for i in coco.images]
    keys = image_keys(paths)
    grids = GridCache(settings.model.trunk_spec(), tmp_path / "cache", device="cpu").features(keys, paths)
    described = Descriptions({"red": ["ripe tomatoes"], "green": ["fresh grass"], "blue": ["a clear sky"]})
    terms = []
    train_head(settings, coco, grids, TEXT_ENCODERS.get("tiny-bert")(device="cpu"), tmp_path / "out", keys,
               on_step=lambda step, t: terms.append(t), descriptions=described)
    box_terms = [t["l1"] + t["giou"] for t in terms]
    assert all(v == 0 for v in box_terms) if absent else all(v > 0 for v in box_terms)
    assert all(t["focal"] > 0 for t in terms)  # every prompted phrase still learns it is not there
