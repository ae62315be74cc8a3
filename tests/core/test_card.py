"""The model card: one type for every saved model, read strictly, every bad card one sentence."""

from __future__ import annotations

import json

import pytest

import steervis
from steervis.card import (
    CARD_FORMAT,
    CARD_NAME,
    DeciderSection,
    ModelCard,
    ReactSection,
    VLMSection,
    card_path,
    has_card,
    is_steervis_card,
    read_card,
    write_card,
)
from steervis.errors import SteervisError

OLDER = "was written by an older steervis"


def _decider() -> ModelCard:
    return ModelCard(kind="decider", base="tiny-llama", config={"model": "tiny-llama", "lr": 1e-3},
                     data={"n_train": 4}, metrics={"loss_last": 0.5},
                     decider=DeciderSection(classes=["cat", "dog"], finetuned=True, prior=[0.25, 0.75],
                                            describe={"matcher": "conse"}))


@pytest.mark.parametrize("card", [
    _decider(),
    ModelCard(kind="vlm", base="tiny-llama", config={"lm": "tiny-llama"},
              vlm=VLMSection(vision_tower="t:1:2x2", stages={"1": {"training": {"steps": 2}}})),
    ModelCard(kind="react-clip", base="tiny-clip", metrics={"losses": [1.0, 0.5]},
              react=ReactSection(name="react", weights="blocks.safetensors", head_hash="ab", pool_hash="cd",
                                 every=2, classes=["a", "b"])),
], ids=lambda card: card.kind)
def test_a_card_comes_back_as_written(tmp_path, card):
    write_card(tmp_path, card)
    assert has_card(tmp_path) and is_steervis_card(tmp_path)
    back = read_card(tmp_path, kind=card.kind)
    assert back == card
    assert back.format == CARD_FORMAT and back.steervis == steervis.__version__
    assert [p.name for p in tmp_path.iterdir()] == [CARD_NAME]  # written atomically: no temporary left


def test_a_card_needs_a_known_kind_and_its_section():
    with pytest.raises(SteervisError, match="kind is one of"):
        ModelCard(kind="detector", base="x")
    with pytest.raises(SteervisError, match="needs its 'react' section"):
        ModelCard(kind="react-head", base="conse")


def _edit(folder, change) -> None:
    raw = json.loads(card_path(folder).read_text())
    change(raw)
    card_path(folder).write_text(json.dumps(raw))


def test_an_unknown_key_is_refused_with_did_you_mean(tmp_path):
    write_card(tmp_path, _decider())
    _edit(tmp_path, lambda raw: raw.update(bsae="x"))
    with pytest.raises(SteervisError) as err:
        read_card(tmp_path, kind="decider")
    message = str(err.value)
    assert "unknown key 'bsae'" in message and "did you mean 'base'?" in message
    assert "`steervis fit`" in message and message.count(". ") == 0  # one sentence, saying what to do


def test_an_unknown_key_inside_a_section_is_refused_with_did_you_mean(tmp_path):
    write_card(tmp_path, _decider())
    _edit(tmp_path, lambda raw: raw["decider"].update(clases=raw["decider"].pop("classes")))
    with pytest.raises(SteervisError, match=r"unknown key 'decider\.clases', did you mean 'classes'\?"):
        read_card(tmp_path, kind="decider")


@pytest.mark.parametrize(("text", "said"), [
    ("{not json", "is damaged (not valid JSON)"),
    ("[1, 2]", "is damaged (not a JSON object)"),
    ("{}", "is not a steervis model card (missing 'kind' and 'base')"),
    ('{"title": "my own card"}', "is not a steervis model card (unknown key 'title')"),
    ('{"card_version": 2, "base_model": "tiny-llama"}', f"{OLDER} (card format 2, now {CARD_FORMAT})"),
    ('{"format": 2, "kind": "decider"}', f"{OLDER} (card format 2, now {CARD_FORMAT})"),
    ('{"vlm": {}}', f"{OLDER} (card format 1, now {CARD_FORMAT})"),
    ('{"format": 99, "kind": "decider"}', "written by a newer steervis (card format 99; this one reads"),
])
def test_a_damaged_foreign_or_older_card_is_one_sentence_naming_the_command(tmp_path, text, said):
    card_path(tmp_path).write_text(text)
    with pytest.raises(SteervisError) as err:
        read_card(tmp_path, kind="decider")
    message = str(err.value)
    assert said in message and str(card_path(tmp_path)) in message
    assert message.endswith(" refit it with `steervis fit` (give its --out folder).")
    assert "\n" not in message


def test_a_card_of_another_kind_is_one_sentence(tmp_path):
    write_card(tmp_path, _decider())
    with pytest.raises(SteervisError) as err:
        read_card(tmp_path, kind=("react-head", "react-clip"))
    message = str(err.value)
    assert "holds a decider, not a react-head or react-clip" in message
    assert message.endswith("rebuild it with `steervis react build` (react-pool) or `steervis react "
                            "customize` (a task's matcher).")
    assert read_card(tmp_path).kind == "decider"  # no kind asked for: any card


def test_a_missing_folder_or_card_names_what_to_do(tmp_path):
    with pytest.raises(SteervisError, match=r"is not a folder: retrain it with `steervis vlm train`\.$"):
        read_card(tmp_path / "nowhere", kind="vlm")
    with pytest.raises(SteervisError, match=rf"is not a steervis model \(no {CARD_NAME}\): rebuild it"):
        read_card(tmp_path, kind="react-head", fix="rebuild it")
    assert not has_card(tmp_path) and not is_steervis_card(tmp_path)
