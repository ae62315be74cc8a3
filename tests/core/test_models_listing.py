"""`steervis models` lists around a damaged model card: the entry named with its path and why, the rest
listed."""

from __future__ import annotations

import json

from steervis.cli import main


def card(folder, text):
    folder.mkdir(parents=True)
    (folder / "card.json").write_text(text)


def test_a_damaged_card_is_one_line_and_the_rest_is_listed(tmp_home, capsys):
    card(tmp_home / "models" / "react" / "broken", "{not json")
    card(tmp_home / "models" / "react" / "odd", "[1, 2]")
    card(tmp_home / "models" / "react" / "good", json.dumps(
        {"name": "react", "base": "conse", "pairs": 12, "losses": [0.5], "classes": ["a", "b"],
         "pool_hash": "p"}))
    card(tmp_home / "models" / "vlm" / "stage1", json.dumps({"vlm": 5, "stages": []}))
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    broken = [line for line in out.splitlines() if "broken" in line]
    assert (len(broken) == 1 and "DAMAGED" in broken[0]
            and str(tmp_home / "models/react/broken/card.json") in broken[0])
    assert any("odd" in line and "not a model card" in line for line in out.splitlines())
    assert any(line.split()[:2] == ["good", "react"] and "final loss 0.500" in line
               for line in out.splitlines())
    assert "stage1/card.json is not a VLM card" in out
    assert "Any Hugging Face hub id also loads" in out  # the listing went on to the end


def test_the_card_of_a_damaged_entry_is_refused_in_one_sentence(tmp_home, capsys):
    card(tmp_home / "models" / "react" / "broken", "{not json")
    assert main(["models", "--card", "broken"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "broken/card.json is damaged" in err[0]
