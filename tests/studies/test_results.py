"""RESULTS tables come from summaries: rendered, checked, and refused when typed by hand."""

from __future__ import annotations

import json

import pytest

from steervis.errors import SteervisError
from steervis.studies.results import cell, render, results
from steervis.studies.summary import summary


def fake_run(folder, commits=("abc1234def",)):
    folder.mkdir(parents=True)
    metrics = {
        "protocol": "dg", "n_images": 10, "classes": ["cat", "dog"],
        "accuracy_ci95": {"zeroshot": {"photo": [0.5, 0.2, 0.8], "sketch": [0.25, 0.0, 0.5],
                                       "mean": [0.375, 0.2, 0.55]},
                          "linear-probe": {"photo": [1.0, 1.0, 1.0], "sketch": [0.75, 0.5, 1.0],
                                           "mean": [0.875, 0.75, 1.0]}},
        "runs": {f"{s}/{m}": {"fit_s": 1.0, "predict_s": 0.5, "commit": commits[i % len(commits)]}
                 for i, (s, m) in enumerate([(s, m) for s in ("photo", "sketch")
                                             for m in ("zeroshot", "linear-probe")])},
        "config": {"protocol": "dg"}, "code": {"commit": commits[0]},
    }
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def write_doc(docs, body):
    (docs / "RESULTS.md").write_text("# Results\n\nProse.\n\n" + body + "\nMore prose.\n")


def test_a_block_is_written_from_its_run_and_checked(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    record = summary(str(fake_run(tmp_path / "run")), table="demo", command="steervis demo", docs=str(docs))
    assert record["commit"] == "abc1234def" and record["compute_s"] == {"zeroshot": 3.0, "linear-probe": 3.0}
    block = "<!-- table: demo rows=linear-probe,zeroshot extra=compute_s -->\nstale\n<!-- /table -->\n"
    write_doc(docs, block)
    with pytest.raises(SteervisError, match="tables demo differ"):
        results(str(docs), check=True)
    assert results(str(docs))["rewritten"] == ["demo"]
    text = (docs / "RESULTS.md").read_text()
    assert "| linear-probe | 100.0 [100.0, 100.0] | 75.0 [50.0, 100.0] | 87.5 [75.0, 100.0] | 3 |" in text
    assert text.index("| linear-probe") < text.index("| zeroshot")  # the rows= order
    assert "`steervis demo` · commit abc1234" in text and text.endswith("More prose.\n")
    assert results(str(docs), check=True)["tables"] == ["demo"]  # now it matches
    # a number changed by hand inside the block is caught
    (docs / "RESULTS.md").write_text(text.replace("87.5 [75.0", "88.5 [75.0"))
    with pytest.raises(SteervisError, match="differ"):
        results(str(docs), check=True)


def test_a_table_typed_outside_a_block_is_refused(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    summary(str(fake_run(tmp_path / "run")), table="demo", command="steervis demo", docs=str(docs))
    write_doc(docs, "<!-- table: demo -->\n<!-- /table -->\n\n| method | acc |\n|---|---|\n| mine | 99 |\n")
    results(str(docs))
    with pytest.raises(SteervisError, match="typed by hand"):
        results(str(docs), check=True)


def test_parts_computed_at_several_commits_are_all_named(tmp_path):
    docs = tmp_path / "docs"
    run = fake_run(tmp_path / "run", commits=("aaaaaaa1", "bbbbbbb2"))
    record = summary(str(run), table="t", command="steervis evaluate --preset quick", docs=str(docs))
    assert record["commit"] == ["aaaaaaa1", "bbbbbbb2"]
    assert "commit aaaaaaa, bbbbbbb" in render("t", docs)


def test_missing_summaries_rows_and_commands_are_one_sentence(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_doc(docs, "<!-- table: nowhere -->\n<!-- /table -->\n")
    with pytest.raises(SteervisError, match="steervis study summary"):
        results(str(docs))
    run = fake_run(tmp_path / "run")
    with pytest.raises(SteervisError, match="must be the command"):
        summary(str(run), table="demo", command="I ran it", docs=str(docs))
    summary(str(run), table="demo", command="steervis demo", docs=str(docs))
    with pytest.raises(SteervisError, match="has no row 'react'"):
        render("demo rows=react", docs)


def test_cells():
    assert cell([0.379, 0.333, 0.426]) == "37.9 [33.3, 42.6]"
    assert cell(1234.5) == "1,234.5" and cell(0.1234) == "0.123"
    assert cell(18771) == "18,771" and cell(None) == "—"


def test_csv_and_step_logs_become_tables(tmp_path):
    docs = tmp_path / "docs"
    (tmp_path / "counts.csv").write_text("source,files,concepts\nopenclipart,100,40\ntotal,100,40\n")
    record = summary(str(tmp_path / "counts.csv"), table="pool", command="steervis data build pool",
                     docs=str(docs))
    assert record["rows"]["total"] == {"files": 100, "concepts": 40} and record["row_title"] == "source"
    table = render("pool columns=files", docs)
    assert table.startswith("| source | files |\n|---|---|\n| openclipart | 100 |")
    (tmp_path / "steps.jsonl").write_text('{"step": "pool", "wall_s": 60.5, "commit": "c0ffee1"}\n'
                                          '{"step": "evaluate", "wall_s": 7200.0, "commit": "c0ffee1"}\n')
    record = summary(str(tmp_path / "steps.jsonl"), table="steps", command="scripts/headline", docs=str(docs))
    assert record["commit"] == "c0ffee1" and record["rows"]["evaluate"] == {"wall_s": 7200.0}


def test_a_bench_output_names_the_commit_it_ran_at(tmp_path):
    docs = tmp_path / "docs"
    (tmp_path / "bench.json").write_text('{"images": 463, "raw_images_per_s": 41.5, "targets": {"a": true}}')
    record = summary(str(tmp_path / "bench.json"), table="speed", command="steervis bench describe",
                     docs=str(docs), commit="feedbee")
    assert record["commit"] == "feedbee" and record["row_title"] == "quantity"
    assert record["rows"] == {"images": {"value": 463}, "raw_images_per_s": {"value": 41.5}}
    (tmp_path / "loads.json").write_text('[{"model": "minilm-l6", "first_s": 3.2, "cached_s": 1.1}]')
    record = summary(str(tmp_path / "loads.json"), table="loads", command="steervis bench zoo-load",
                     docs=str(docs), commit="feedbee")
    assert record["rows"] == {"minilm-l6": {"first_s": 3.2, "cached_s": 1.1}}


def test_rows_under_a_field_are_flattened_into_columns(tmp_path):
    (tmp_path / "check.json").write_text('{"device": "cpu", "parts": {"generate": {"ok": true, '
                                         '"batch_1": {"ratio": 0.94}}, "lora": {"ok": false}}}')
    record = summary(str(tmp_path / "check.json"), table="check", command="scripts/gpu-check --tiny",
                     docs=str(tmp_path / "docs"), rows="parts")
    assert record["rows"] == {"generate": {"ok": True, "batch_1.ratio": 0.94}, "lora": {"ok": False}}
    with pytest.raises(SteervisError, match="no table under 'nothing'"):
        summary(str(tmp_path / "check.json"), table="check", command="scripts/gpu-check", docs=str(tmp_path),
                rows="nothing")


def test_a_json_of_rows_becomes_a_table(tmp_path):
    (tmp_path / "counts.json").write_text('{"main/train": {"scenes": 9, "questions": {"count": 9}}, '
                                          '"val/train": {"scenes": 1, "questions": {"count": 1}}}')
    record = summary(str(tmp_path / "counts.json"), table="scenes", command="steervis data build scenes",
                     docs=str(tmp_path / "docs"))
    assert record["rows"]["val/train"] == {"scenes": 1, "questions.count": 1}


def test_a_folder_of_outputs_is_one_row_per_file_each_with_its_commit(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "b-packed.json").write_text('{"commit": "abc1234", "with_image": {"all": [70.1, 67.0, 73.2]}}')
    (runs / "a-single.json").write_text('{"with_image": {"all": [80.0, 77.5, 82.4]}, "turns": "single", '
                                        '"probe": {"LM layer 3": 0.5}}')
    record = summary(str(runs), table="diag", command="scripts/vlm-diagnose", docs=str(tmp_path / "docs"),
                     commit="feedbee")
    assert list(record["rows"]) == ["a-single", "b-packed"] and record["row_title"] == "run"
    assert record["rows"]["a-single"] == {"with_image.all": [80.0, 77.5, 82.4], "turns": "single",
                                          "probe.LM_layer_3": 0.5}
    assert record["commit"] == ["abc1234", "feedbee"]
    record = summary(str(runs), table="diag", command="scripts/vlm-diagnose", docs=str(tmp_path / "docs"),
                     percent=True)
    assert record["rows"]["a-single"]["with_image.all"] == [0.8, 0.775, 0.824]
    assert render("diag columns=with_image.all", tmp_path / "docs").splitlines()[2] == (
        "| a-single | 80.0 [77.5, 82.4] |")


def test_a_studys_titled_rows_keep_their_title_in_the_table(tmp_path):
    paired = {"rows": {"zeroshot/photo": {"float32": [0.5, 0.25, 0.75], "bfloat16": [0.75, 0.5, 1.0],
                                          "difference": [0.25, 0.0, 0.5], "changed": 1, "images": 4}},
              "row_title": "method/held out"}
    (tmp_path / "paired.json").write_text(json.dumps(paired))
    record = summary(str(tmp_path / "paired.json"), table="bf16", docs=str(tmp_path / "docs"),
                     command="steervis study paired --set run=runs/quick --set against=runs/quick-bf16")
    assert record["row_title"] == "method/held out" and record["rows"] == paired["rows"]
    table = render("bf16", tmp_path / "docs")
    assert table.startswith("| method/held out | float32 | bfloat16 | difference | changed | images |")
    assert "| zeroshot/photo | 50.0 [25.0, 75.0] | 75.0 [50.0, 100.0] | 25.0 [0.0, 50.0] | 1 | 4 |" in table


def test_merged_rows_join_the_committed_summary_and_name_every_commit(tmp_path):
    docs, runs = tmp_path / "docs", tmp_path / "runs"
    runs.mkdir()
    (runs / "a.json").write_text('{"commit": "aaa1111", "ap": 0.5}')
    (runs / "b.json").write_text('{"commit": "aaa1111", "ap": 0.25}')
    summary(str(runs), table="g", command="scripts/ground-glip", docs=str(docs), split="900 scenes")
    (runs / "a.json").unlink()
    (runs / "b.json").write_text('{"commit": "bbb2222", "ap": 0.75}')
    (runs / "c.json").write_text('{"commit": "bbb2222", "ap": 0.125}')
    record = summary(str(runs), table="g", command="scripts/ground-glip", docs=str(docs), merge=True)
    assert record["rows"] == {"a": {"ap": 0.5}, "b": {"ap": 0.75}, "c": {"ap": 0.125}}
    assert record["commit"] == ["aaa1111", "bbb2222"] and record["split"] == "900 scenes"
    assert json.loads((docs / "results" / "g" / "summary.json").read_text()) == record
    with pytest.raises(SteervisError, match="one command's rows"):
        summary(str(runs), table="g", command="scripts/other", docs=str(docs), merge=True)
    with pytest.raises(SteervisError, match="does not exist"):
        summary(str(runs), table="new", command="scripts/ground-glip", docs=str(docs), merge=True)
