"""`steervis models` lists around a damaged model card: the entry named with its path and why, the rest
listed."""

from __future__ import annotations

import json

from steervis.card import CARD_FORMAT, ModelCard, ReactSection, card_path
from steervis.cli import main


def card(folder, text):
    folder.mkdir(parents=True)
    card_path(folder).write_text(text)


def test_a_damaged_card_is_one_line_and_the_rest_is_listed(tmp_home, capsys):
    card(tmp_home / "models" / "react" / "broken", "{not json")
    card(tmp_home / "models" / "react" / "odd", "[1, 2]")
    section = ReactSection(name="react", weights="head.safetensors", head_hash="h", pool_hash="p",
                           classes=["a", "b"])
    good = ModelCard(kind="react-head", base="conse", data={"pairs": 12}, metrics={"losses": [0.5]},
                     react=section)
    card(tmp_home / "models" / "react" / "good", good.to_json())
    odd_vlm = {"format": CARD_FORMAT, "kind": "vlm", "base": "x", "vlm": 5}
    card(tmp_home / "models" / "vlm" / "stage1", json.dumps(odd_vlm))
    card(tmp_home / "models" / "vlm" / "stage2", json.dumps({"vlm": {}, "stages": []}))  # an older format
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    broken = [line for line in out.splitlines() if "broken" in line]
    assert (len(broken) == 1 and "DAMAGED" in broken[0]
            and str(tmp_home / "models/react/broken/card.json") in broken[0])
    assert any("odd" in line and "is damaged (not a JSON object)" in line for line in out.splitlines())
    assert any(line.split()[:2] == ["good", "react"] and "final loss 0.500" in line
               for line in out.splitlines())
    assert "stage1/card.json is not a steervis model card (value vlm=5 must be a mapping" in out
    assert "stage2/card.json was written by an older steervis" in out and "`steervis vlm train`" in out
    assert "Any Hugging Face hub id also loads" in out  # the listing went on to the end


def test_the_card_of_a_damaged_entry_is_refused_in_one_sentence(tmp_home, capsys):
    card(tmp_home / "models" / "react" / "broken", "{not json")
    assert main(["models", "--card", "broken"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "broken/card.json is damaged" in err[0]
