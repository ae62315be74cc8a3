"""The few-shot protocol: k labelled images per class from the other domains, per seed; and evaluate running
VRL under it end to end with tiny models."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from steervis.errors import SteervisError
from steervis.eval import EvaluateConfig, evaluate
from steervis.eval.protocols import PROTOCOLS, check_splits, few_shot_splits


def frame() -> pd.DataFrame:
    rows = [(d, c, f"{d}{c}{i}") for d in ("photo", "sketch", "art") for c in ("cat", "dog")
            for i in range(5)]
    rows.append(("photo", "fox", "photofox0"))
    return pd.DataFrame(rows, columns=["domain", "class", "sha256"]).assign(path=lambda f: f["sha256"])


def test_k_shots_per_class_from_the_other_domains_drawn_per_seed():
    splits = check_splits(few_shot_splits(frame(), 3, [0, 1], ["sketch"]))
    assert [s.name for s in splits] == ["sketch-3shot-s0", "sketch-3shot-s1"]
    for s in splits:
        assert s.train["class"].value_counts().to_dict() == {"cat": 3, "dog": 3, "fox": 1}  # fox has one
        assert set(s.train["domain"]) <= {"photo", "art"} and set(s.test["domain"]) == {"sketch"}
    assert set(splits[0].train["sha256"]) != set(splits[1].train["sha256"])
    shuffled = few_shot_splits(frame().sample(frac=1.0, random_state=7), 3, [0, 1], ["sketch"])
    assert set(shuffled[0].train["sha256"]) == set(splits[0].train["sha256"])  # row order changes nothing
    assert len(few_shot_splits(frame(), 1, [0])) == 3  # every domain held out in turn


def test_bad_few_shot_settings_are_one_sentence():
    with pytest.raises(SteervisError, match="k >= 1"):
        few_shot_splits(frame(), 0, [0])
    with pytest.raises(SteervisError, match="at least one seed"):
        few_shot_splits(frame(), 2, [])


def test_evaluate_runs_vrl_few_shot_and_records_its_criteria(tmp_path, tmp_home):
    from steervis.data.synthetic import make_toy_dataset

    toy = make_toy_dataset(tmp_path / "toy", per_class=3)
    run = {"method": "vrl", "options": {"matcher": "tiny-clip", "lm": "tiny-llama", "max_new_tokens": 8}}
    cfg = EvaluateConfig(data=str(toy), protocol="few-shot", runs=[run], held_out=["sketch"],
                         few_shot={"k": 2, "seeds": [0, 1]}, out=str(tmp_path / "runs"),
                         describe={"matcher": "tiny-clip", "captioner": None})
    assert "few-shot" in PROTOCOLS.names()
    result = evaluate(cfg, progress=False)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert set(metrics["accuracy"]["vrl"]) >= {"sketch-2shot-s0", "sketch-2shot-s1"}
    preds = pd.read_parquet(result.run_dir / "predictions.parquet")
    assert len(preds) == 2 * 9  # each of the 9 sketch images once per seed
    facts = metrics["runs"]["sketch-2shot-s0/vrl"]["diagnostics"]
    assert facts["source"] == "verbalized" and facts["criteria"] >= 1 and facts["selection"].startswith("c")


def test_only_the_few_shot_protocol_reads_its_section_into_the_run_folder_name():
    from steervis.eval.run_folder import run_dir_for

    def folder(protocol, k):
        return run_dir_for(EvaluateConfig(protocol=protocol, few_shot={"k": k})).name

    assert folder("dg", 1) == folder("dg", 8) and folder("few-shot", 1) != folder("few-shot", 8)
