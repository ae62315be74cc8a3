"""The class-tags diagnostic reads the class tags back from stored descriptions and compares the answers."""

import pandas as pd
import pytest

from steervis.errors import SteervisError
from steervis.studies.classtags import follow_class_tags, leading_tags, study_class_tags


def test_leading_tags_stop_at_the_next_block():
    assert leading_tags("Tags:\n- cat\n- dog\nAttributes:\n- furry", 3) == ["cat", "dog"]
    assert leading_tags("Attributes:\n- furry", 3) == []


def test_follow_class_tags_per_domain_and_overall():
    preds = pd.DataFrame({
        "domain": ["a", "a", "b", "b"], "class": ["cat", "dog", "cat", "dog"],
        "pred": ["cat", "cat", "dog", "dog"],
        "description": ["Tags:\n- cat\n- dog", "Tags:\n- cat\n- dog", "Tags:\n- dog\n- cat",
                        "Tags:\n- fox\n- cow"]})
    out = follow_class_tags(preds, n=2)
    assert out["a"] == {"images": 2, "first_tag_right": 50.0, "class_in_tags": 100.0,
                        "answer_is_first_tag": 100.0, "answer_in_tags": 100.0, "accuracy": 50.0,
                        "accuracy_when_first_right": 100.0, "accuracy_when_first_wrong": 0.0,
                        "minus_first_tag_ci95": out["a"]["minus_first_tag_ci95"]}
    assert out["a"]["minus_first_tag_ci95"][0] == 0.0  # right on the same one image the first tag gets right
    assert out["b"]["class_in_tags"] == 50.0 and out["b"]["answer_is_first_tag"] == 50.0
    assert out["all"]["images"] == 4 and out["all"]["accuracy"] == 50.0


def test_the_study_explains_a_missing_run_or_method(tmp_path):
    with pytest.raises(SteervisError, match="finished"):
        study_class_tags(run=str(tmp_path))
    pd.DataFrame({"method": ["m"], "domain": ["a"], "class": ["x"], "pred": ["x"],
                  "description": ["Tags:\n- x"]}).to_parquet(tmp_path / "predictions.parquet")
    with pytest.raises(SteervisError, match="it has m"):
        study_class_tags(run=str(tmp_path), method="other")
    assert study_class_tags(run=str(tmp_path), method="m", n=1)["a"]["answer_is_first_tag"] == 100.0
