"""`steervis retrieve --out` writes the format its suffix names, or refuses the suffix before any work."""

from __future__ import annotations

import importlib
import json

import pandas as pd
import pytest

from steervis.cli import main

PAIRS = pd.DataFrame({"class": ["dog", "dog"], "rank": [0, 1], "score": [0.9, 0.8], "text": ["a dog", "dogs"],
                      "names_class": [True, True], "phash": [1, 2]})


@pytest.fixture
def fake_retrieve(monkeypatch):
    calls = []

    def retrieve(classes, **kw):
        calls.append(classes)
        return PAIRS.copy()

    # the package re-exports a function by that name
    module = importlib.import_module("steervis.react.retrieve")
    monkeypatch.setattr(module, "retrieve", retrieve)
    return calls


@pytest.mark.parametrize("suffix, read", [(".parquet", pd.read_parquet), (".csv", pd.read_csv),
                                          (".json", lambda p: pd.DataFrame(json.loads(p.read_text())))])
def test_the_suffix_picks_the_format(tmp_path, fake_retrieve, suffix, read):
    out = tmp_path / "sub" / f"pairs{suffix}"
    assert main(["retrieve", "--classes", "dog", "--quiet", "--out", str(out)]) == 0
    got = read(out)
    assert got["text"].tolist() == ["a dog", "dogs"] and "phash" not in got


@pytest.mark.parametrize("name", ["pairs.txt", "pairs", "pairs.xlsx"])
def test_another_suffix_is_refused_before_any_work(tmp_path, fake_retrieve, capsys, name):
    assert main(["retrieve", "--classes", "dog", "--quiet", "--out", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "must end in .parquet, .csv or .json" in err[0]
    assert fake_retrieve == [] and not (tmp_path / name).exists()


@pytest.mark.parametrize("verb", [["study", "paired"], ["vlm", "eval"]])
def test_json_results_refuse_another_suffix_before_any_work(tmp_path, capsys, verb):
    assert main([*verb, "--out", str(tmp_path / "result.csv")]) == 2
    assert "must end in .json" in capsys.readouterr().err and not (tmp_path / "result.csv").exists()
