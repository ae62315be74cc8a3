"""Knowledge questions from a hand-made WordNet-like table: well-formed, seeded, split by class, built into
the cache and read back."""

import re

import pytest

from steervis.data.knowledge import (
    Facts,
    build_knowledge,
    is_current,
    load_questions,
    questions_frame,
    request_of,
)
from steervis.data.knowledge.questions import BLANK, make_questions, shares_name, split_classes
from steervis.errors import SteervisError

TABLE = {  # name: (gloss, hypernyms, ancestors' names, parts, members)
    "dog": ("a domesticated canine; the dog barks", ["canine"], ["carnivore", "mammal"], ["tail", "paw"],
            ["pack"]),
    "cat": ("a small feline with soft fur kept as a pet", ["feline"], ["carnivore", "mammal"], ["whisker"],
            []),
    "owl": ("a nocturnal bird of prey with large eyes", ["bird of prey"], ["bird"], ["beak", "wing"],
            ["parliament"]),
    "light bulb": ("an electric lamp with a glowing filament in a glass bulb", ["electric lamp"], ["lamp"],
                   ["filament", "bulb base"], []),
    "car": ("a motor vehicle with four wheels", ["motor vehicle"], ["vehicle"], ["wheel", "bumper"],
            ["fleet"]),
    "bus": ("a large motor vehicle carrying passengers", ["motor vehicle"], ["vehicle"], ["window", "wheel"],
            ["fleet", "convoy"]),
    "apple": ("fruit with red or yellow skin", ["edible fruit", "pome"], ["fruit"], ["core"], ["orchard"]),
}


def table_facts() -> dict[str, Facts]:
    out = {}
    for name, (gloss, hyper, ancestors, parts, members) in TABLE.items():
        words = sorted({w.lower() for w in re.findall(r"[A-Za-z]{4,}", gloss)} - set(name.split()))
        out[name] = Facts(name=name, synset=f"{name.replace(' ', '_')}.n.01", gloss=gloss, names=[name],
                          relations={"hypernym": hyper, "part": parts, "member": members, "gloss": words},
                          true={"hypernym": hyper + ancestors, "part": parts, "member": members,
                                "gloss": words})
    return out


def test_every_question_has_four_distinct_options_one_right_from_its_own_relation():
    facts = table_facts()
    frame = questions_frame(facts)
    assert {"hypernym", "part", "member", "gloss"} == set(frame["type"])
    for row in frame.itertuples(index=False):
        name, kind, options = row[1], row.type, list(row.options)
        f = facts[name]
        assert len(options) == 4 and len({o.lower() for o in options}) == 4
        right = options[row.answer]
        assert right in f.relations[kind] and not shares_name(right, f.names)
        others = {v for c, g in facts.items() if c != name for v in g.relations.get(kind, [])}
        for wrong in options[: row.answer] + options[row.answer + 1:]:
            assert wrong in others and wrong not in f.true[kind] and not shares_name(wrong, f.names)
            assert wrong not in {g.gloss for g in facts.values()}
        assert not re.search(rf"\b{re.escape(name)}\b", row.question, re.IGNORECASE)


def test_a_gloss_question_blanks_a_word_and_masks_the_class_name():
    frame = questions_frame(table_facts())
    dog = frame[(frame["class"] == "dog") & (frame["type"] == "gloss")]
    assert len(dog)
    for question, options, answer in zip(dog["question"], dog["options"], dog["answer"], strict=True):
        assert BLANK in question and "the [it]" in question and "dog" not in question.lower()
        assert options[answer] not in question  # the blanked word, every occurrence
    bulb = frame[(frame["class"] == "light bulb") & (frame["type"] == "gloss")]
    assert all("bulb" not in q.replace("bulb base", "") for q in bulb["question"])


def test_a_shared_or_ancestral_value_is_never_a_distractor():
    frame = questions_frame(table_facts())
    dog_kind = frame[(frame["class"] == "dog") & (frame["type"] == "hypernym")]
    assert all("carnivore" not in opts for opts in dog_kind["options"])
    car_parts = frame[(frame["class"] == "car") & (frame["type"] == "part")]
    assert all(list(opts).count("wheel") <= 1 for opts in car_parts["options"])
    # a class's answer sharing a word with its name is never asked: "bulb base" of the light bulb
    assert "light bulb/part/bulb base" not in set(frame["qid"])


def test_too_few_distractors_leave_the_question_out():
    facts = table_facts()
    rows = make_questions({k: facts[k] for k in ("dog", "cat", "owl")})
    # three classes: two other hypernyms, one other group, but three or more other parts
    assert {r["type"] for r in rows} == {"part", "gloss"}


def test_questions_are_seeded_and_reproducible():
    facts = table_facts()
    a, b = questions_frame(facts, seed=3), questions_frame(facts, seed=3)
    assert a.equals(b)
    c = questions_frame(facts, seed=4)
    assert [list(o) for o in a["options"]] != [list(o) for o in c["options"]] or not a["split"].equals(
        c["split"])
    # which facts a class is asked about does not move when another class is added
    less = questions_frame({k: v for k, v in facts.items() if k != "apple"}, seed=3)
    assert set(a[a["class"] == "dog"]["qid"]) == set(less[less["class"] == "dog"]["qid"])


def test_splits_are_by_class_disjoint_and_cover_every_class():
    classes = [f"c{i}" for i in range(9)]
    splits = split_classes(classes, seed=0)
    val = {c for c, s in splits.items() if s == "validation"}
    test = {c for c, s in splits.items() if s == "test"}
    assert not val & test and val | test == set(classes) and len(val) == 5
    assert split_classes(classes, seed=0) == splits != split_classes(classes, seed=1)
    frame = questions_frame(table_facts())
    assert frame.groupby("class")["split"].nunique().max() == 1


def test_build_writes_a_manifest_and_reads_it_back(tmp_home, tmp_path):
    root = build_knowledge(tmp_path / "kn", facts=table_facts(), seed=2)
    assert is_current(root, request_of(2, classes=list(TABLE)))
    assert not is_current(root, request_of(3, classes=list(TABLE)))
    frame = load_questions(root)
    assert frame.equals(questions_frame(table_facts(), seed=2).assign(
        options=lambda f: f["options"].map(list)))
    val = load_questions(root, split="validation")
    assert set(val["split"]) == {"validation"} and 0 < len(val) < len(frame)
    with pytest.raises(SteervisError, match="split='train' must be one of"):
        load_questions(root, split="train")
    with pytest.raises(SteervisError, match="steervis data build knowledge"):
        load_questions(tmp_path / "none")


@pytest.mark.slow
def test_wordnet_facts_of_a_class_name_its_sense_and_relations():
    from steervis.data.knowledge.wordnet import wordnet_facts

    facts = wordnet_facts(["dog", "pig", "light bulb"])
    assert facts["dog"].synset == "dog.n.01" and "canine" in facts["dog"].relations["hypernym"]
    assert "mammal" in facts["dog"].true["hypernym"] and "Canis" in facts["dog"].relations["member"]
    assert facts["pig"].synset == "hog.n.03" and "filament" in facts["light bulb"].relations["part"]


def test_data_build_knowledge_writes_the_questions_once(tmp_home, monkeypatch, capsys):
    import steervis.data.knowledge as kn
    import steervis.data.knowledge.wordnet as wordnet
    from steervis.cli import main

    calls = []
    monkeypatch.setattr(kn, "knowledge_classes", lambda: sorted(TABLE))
    monkeypatch.setattr(wordnet, "wordnet_facts", lambda classes: calls.append(classes) or table_facts())
    assert main(["data", "build", "knowledge", "--seed", "1"]) == 0
    root = tmp_home / "data" / "knowledge"
    assert load_questions(root).equals(load_questions(build_knowledge(root.parent / "again",
                                                                      facts=table_facts(), seed=1)))
    assert main(["data", "build", "knowledge", "--seed", "1"]) == 0 and len(calls) == 1
    assert "knowledge already built" in capsys.readouterr().out
