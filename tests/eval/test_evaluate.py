"""End-to-end smoke of the harness on a tiny generated dataset: files, report, resume, determinism."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pandas as pd
import pytest

from steervis.cli import main
from steervis.config import load_yaml, preset_path
from steervis.errors import SteervisError
from steervis.eval import EvaluateConfig, evaluate
from steervis.eval.harness import UDAConfig


@pytest.fixture
def toy(tmp_path, tmp_home):
    from steervis.data.synthetic import make_toy_dataset

    return make_toy_dataset(tmp_path / "toy")


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def run(toy, tmp_path, runs, **kw):
    """``runs``: run mappings, or method names for runs of a method with its default options."""
    runs = [{"method": r} if isinstance(r, str) else r for r in runs]
    cfg = EvaluateConfig(data=str(toy), runs=runs, out=str(tmp_path / "runs"), **kw)
    return evaluate(cfg, progress=False)


TINY_ZEROSHOT = {"method": "zeroshot", "options": {"matcher": "tiny-clip"}}
TINY_DECIDE = load_yaml(preset_path("decide-tiny"))  # describe-decide's options: seconds, random weights


def test_evaluate_writes_every_file_and_a_report_naming_every_method(toy, tmp_path):
    methods = ["linear-probe", "zeroshot"]
    result = run(toy, tmp_path, ["linear-probe", TINY_ZEROSHOT])
    for name in ("config.yaml", "describe.yaml", "methods.yaml", "metrics.json", "predictions.parquet",
                 "report.html", "accuracy.png"):
        assert (result.run_dir / name).stat().st_size > 0, name
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert set(metrics["accuracy"]) == set(methods)
    preds = pd.read_parquet(result.run_dir / "predictions.parquet")
    assert len(preds) == 2 * metrics["n_images"]  # each image is tested once per method under DG
    assert set(preds["pred"]) <= set(metrics["classes"])
    parser = Collector()
    parser.feed((result.run_dir / "report.html").read_text())
    sections = {a.get("data-method") for t, a in parser.tags if t == "section"}
    assert sections == set(methods)
    assert any(t == "table" and a.get("id") == "accuracy" for t, a in parser.tags)
    assert any(t == "img" and a.get("id") == "chart" for t, a in parser.tags)
    assert "| linear-probe |" in result.markdown


def test_rerun_resumes_from_finished_parts_with_the_same_numbers(toy, tmp_path):
    first = run(toy, tmp_path, ["linear-probe"])
    parts = sorted((first.run_dir / "parts").glob("*.parquet"))
    stamps = [p.stat().st_mtime_ns for p in parts]
    second = run(toy, tmp_path, ["linear-probe"])
    assert [p.stat().st_mtime_ns for p in parts] == stamps  # nothing recomputed
    pd.testing.assert_frame_equal(first.table, second.table)


def test_linear_probe_beats_chance_on_the_toy_shapes(toy, tmp_path):
    result = run(toy, tmp_path, ["linear-probe"])
    assert result.table.loc["linear-probe", "mean"] > 1 / 3


def test_unknown_method_and_missing_domain_are_clear_errors(toy, tmp_path):
    with pytest.raises(SteervisError, match="Unknown method"):
        run(toy, tmp_path, ["linear-prob"])
    with pytest.raises(SteervisError, match="no images"):
        run(toy, tmp_path, ["linear-probe"], held_out=["cartoon"])


def test_cli_evaluate_prints_a_markdown_table(toy, tmp_path, capsys):
    code = main(["evaluate", "--data", str(toy), "--runs", "linear-probe", "--out", str(tmp_path / "r")])
    assert code == 0
    out = capsys.readouterr().out
    assert "| method |" in out and "report.html" in out
    assert main(["evaluate", "--preset", "nope"]) == 2


def test_report_renders_in_headless_chromium(toy, tmp_path):
    from steervis.eval.screenshot import find_chromium, render_report

    if find_chromium() is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    result = run(toy, tmp_path, ["linear-probe"])
    shot = tmp_path / "report.png"
    check = render_report(result.run_dir / "report.html", shot)
    assert check["chart_width"] > 100  # the browser decoded the bar chart
    assert check["broken_images"] == 0
    assert check["table_rows"] == 2  # header + one method
    assert shot.stat().st_size > 10_000


def test_uda_logs_rounds_and_a_variant_reuses_the_fitted_adapter(toy, tmp_path):
    decide = {"method": "describe-decide", "options": {**TINY_DECIDE, "also": ["generate"]}}
    result = run(toy, tmp_path, [decide], protocol="uda",
                 uda=UDAConfig(source=["photo"], targets=["sketch"], rounds=1),
                 describe={"matcher": "tiny-clip", "captioner": None})
    assert list(result.table.index) == ["describe-decide", "describe-decide (generate)"]
    info = next(iter(result.metrics["runs"].values()))
    assert [r["round"] for r in info["rounds"]] == [0, 1]
    assert info["variants"]["generate"]["predict_s"] > 0
    page = (result.run_dir / "report.html").read_text()
    assert "id='rounds'" in page and "id='rounds-chart'" in page and "describe-decide (generate)" in page
    import yaml

    resolved = yaml.safe_load((result.run_dir / "methods.yaml").read_text())["describe-decide"]
    assert resolved["options"]["also"] == ["generate"] and resolved["resolved"]["model"] == "tiny-llama"
    assert yaml.safe_load((result.run_dir / "describe.yaml").read_text())["matcher"] == "tiny-clip"


def test_same_config_from_scratch_gives_the_same_numbers(toy, tmp_path):
    methods = [TINY_ZEROSHOT, "linear-probe", {"method": "describe-decide", "options": TINY_DECIDE}]
    kw = dict(describe={"matcher": "tiny-clip", "captioner": None})
    first = run(toy, tmp_path / "a", methods, **kw)
    second = run(toy, tmp_path / "b", methods, **kw)  # a new run folder: every method refits
    pd.testing.assert_frame_equal(first.table, second.table)
    cols = ["method", "path", "pred", "confidence"]
    pd.testing.assert_frame_equal(first.predictions[cols], second.predictions[cols])


def test_labelled_variants_read_their_own_describer_and_components(toy, tmp_path):
    """Labelled runs: one evaluation compares describers / description parts; each run reads its own texts."""
    tiny = {"matcher": "tiny-clip", "tagger": "vocab", "attribute_vocab": ""}
    result = run(toy, tmp_path, [
        "description-probe",
        {"label": "description-probe@tags", "method": "description-probe", "components": ["tags"]},
        {"label": "description-probe@other", "method": "description-probe", "describe": {"tag_top_k": 1}}],
        describe=tiny)
    preds = pd.read_parquet(result.run_dir / "predictions.parquet")
    assert set(preds["method"]) == {"description-probe", "description-probe@tags", "description-probe@other"}
    texts = {m: g.sort_values("path")["description"].tolist() for m, g in preds.groupby("method")}
    assert all(t.count("\n- ") <= 1 for t in texts["description-probe@other"])  # top-1 tag, nothing else
    assert texts["description-probe@other"] != texts["description-probe"]
    assert all("Attributes" not in t for t in texts["description-probe@tags"])
    methods_yaml = (result.run_dir / "methods.yaml").read_text()
    assert "tag_top_k: 1" in methods_yaml and "method: description-probe" in methods_yaml


def test_class_tags_variant_reads_the_runs_class_names_first(toy, tmp_path):
    """`class_tags` in a variant's describer: the harness fills in the task's classes, which lead its tags."""
    tiny = {"matcher": "tiny-clip", "tagger": "vocab", "attribute_vocab": ""}
    classes_run = {"label": "description-probe@classes", "method": "description-probe",
                   "describe": {"class_tags": 1}}
    result = run(toy, tmp_path, ["description-probe", classes_run], describe=tiny)
    preds = pd.read_parquet(result.run_dir / "predictions.parquet")
    classes = set(result.metrics["classes"])
    with_classes = preds[preds["method"] == "description-probe@classes"]["description"]
    assert all(text.split("\n")[1][2:] in classes for text in with_classes)  # the first tag is a class name
    import yaml

    recorded = yaml.safe_load((result.run_dir / "methods.yaml").read_text())["description-probe@classes"]
    assert set(recorded["describe"]["classes"]) == classes  # methods.yaml says which classes were ranked
    parts = sorted(p.name for p in (result.run_dir / "parts").glob("*.parquet"))
    again = run(toy, tmp_path, ["description-probe", classes_run], describe=tiny)
    assert sorted(p.name for p in (again.run_dir / "parts").glob("*.parquet")) == parts  # resumed, same keys


def test_a_misspelt_run_method_or_describer_key_and_a_repeated_label_are_refused(toy, tmp_path):
    with pytest.raises(SteervisError, match="runs.x.describe.tag_top_kk"):
        run(toy, tmp_path, [{"label": "x", "method": "description-probe", "describe": {"tag_top_kk": 1}}])
    with pytest.raises(SteervisError, match="description-probe"):  # did-you-mean on the method
        run(toy, tmp_path, [{"label": "x", "method": "descripton-probe"}])
    with pytest.raises(SteervisError, match="Two runs are labelled 'linear-probe'"):
        run(toy, tmp_path, ["linear-probe", {"method": "linear-probe", "options": {"C": 0.1}}])


def test_intervals_bracket_every_accuracy_and_the_mean():
    from steervis.eval.metrics import interval_table, markdown_interval_table

    preds = pd.DataFrame({"method": ["m"] * 8, "split": ["a"] * 4 + ["b"] * 4,
                          "class": ["x"] * 8, "pred": ["x", "x", "y", "x", "y", "y", "x", "y"]})
    table = interval_table(preds)["m"]
    assert table["a"][0] == 0.75 and table["b"][0] == 0.25 and table["mean"][0] == 0.5
    for acc, low, high in table.values():
        assert low <= acc <= high
    assert "50.0 [" in markdown_interval_table({"m": table})
