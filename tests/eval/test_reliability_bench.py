"""`steervis bench reliability`: cases are a registry; one cheap row runs for real and lands in the table."""

from __future__ import annotations

import subprocess

from steervis.eval.benchmarks import BENCHMARKS
from steervis.eval.reliability import CASES, Outcome, refused, seen_line
from steervis.eval.reliability_cases import bench_reliability


def test_every_group_of_rows_is_registered():
    import steervis.eval.reliability_cases  # noqa: F401

    names = CASES.names()
    for prefix, at_least in [("input-", 15), ("stale-", 2), ("cache-", 4), ("race-", 2), ("kill-", 3)]:
        assert sum(n.startswith(prefix) for n in names) >= at_least, prefix
    assert "reliability" in BENCHMARKS.names()


def test_the_pool_react_and_llava_rows_are_registered():
    names = CASES.names()
    for name in ["input-retrieve-empty-classes", "input-retrieve-unknown-classes", "input-retrieve-no-pool",
                 "input-react-empty-classes", "input-react-unknown-classes", "input-react-no-pool",
                 "kill-pool-build", "kill-react-customize", "input-caption-no-image",
                 "input-caption-non-image", "input-chat-non-image", "input-chat-long-prompt",
                 "kill-vlm-stage1", "kill-vlm-stage2"]:
        assert name in names, name


def test_the_rows_about_the_users_files_values_and_checkpoints_are_registered():
    names = CASES.names()
    for name in ["out-fit-user-folder", "out-vlm-user-folder", "out-fit-into-data", "out-evaluate-into-data",
                 "out-fit-dot", "out-fit-again", "out-rerun-user-notes", "out-toy-into-cache", "race-fit",
                 "race-evaluate", "kill-evaluate-publish", "kill-predict", "kill-fit-training",
                 "disk-readonly-out", "disk-readonly-home", "disk-full-out", "damaged-ckpt-pickle-vlm-train",
                 "input-run-name-escapes", "input-paired-other-images", "input-data-link-into-training",
                 "input-data-link-outside", "input-retrieve-out-suffix", "input-models-damaged-card",
                 "input-values-hub-id-dot", "input-values-chat-past-context",
                 "input-values-caption-one-bad-file"]:
        assert name in names, name


def test_same_tensors_compares_every_safetensors_file_bit_for_bit(tmp_path):
    import torch
    from safetensors.torch import save_file

    from steervis.eval.reliability_cases_react import same_tensors

    for name, bump in [("a", 0.0), ("b", 0.0), ("c", 1e-7)]:
        (tmp_path / name / "adapter").mkdir(parents=True)
        save_file({"w": torch.ones(3)}, str(tmp_path / name / "projector.safetensors"))
        save_file({"w": torch.zeros(2) + bump},
                  str(tmp_path / name / "adapter" / "adapter_model.safetensors"))
    assert same_tensors(tmp_path / "a", tmp_path / "b")
    assert not same_tensors(tmp_path / "a", tmp_path / "c")  # a nested file differs
    (tmp_path / "b" / "adapter" / "adapter_model.safetensors").unlink()
    assert not same_tensors(tmp_path / "a", tmp_path / "b")  # a file missing
    (tmp_path / "empty").mkdir()
    assert not same_tensors(tmp_path / "empty", tmp_path / "empty")  # nothing saved is not "equal"


def test_trained_line_says_where_a_rerun_resumed():
    from steervis.eval.reliability_cases_vlm import trained_line

    line = trained_line('{"stage": 2, "out": "/x", "resumed_from": 3, "steps": 72, "loss_last": 1.0}')
    assert line == "(stdout) stage 2 resumed at step 3, ran to step 72, saved to /x"
    assert "started at step 0" in trained_line('{"stage": 1, "out": "/x", "resumed_from": 0, "steps": 5}')
    assert trained_line("{") == ""


def test_seen_line_prefers_the_error_then_a_traceback_then_a_warning():
    def proc(err, out=""):
        return subprocess.CompletedProcess([], 2, out, err)

    assert seen_line(proc("INFO x\nsteervis: error: bad.\n")) == "steervis: error: bad."
    assert seen_line(proc("Traceback (most recent call last):\n  ...\nValueError: boom\n")).endswith("boom")
    assert seen_line(proc("INFO a\nWARNING b\n")) == "WARNING b"
    assert seen_line(proc("", "done\n")) == "(stdout) done"
    usage = ("usage: steervis caption [-h] PATH\nsteervis caption: error: the following arguments are "
             "required: PATH\n")
    assert seen_line(proc(usage)).startswith("steervis caption: error:")  # argparse's usage error
    assert refused(proc(usage)).result == "one sentence, no traceback"


def test_a_row_runs_in_a_subprocess_and_lands_in_the_markdown(tmp_path):
    out = tmp_path / "RELIABILITY.md"
    result = bench_reliability(out=str(out), only="input-config-folder")
    (row,) = result["rows"]
    assert row["exit"] == 2 and row["seen"].startswith("steervis: error:") and "is a folder" in row["seen"]
    text = out.read_text()
    assert "| input | what the user sees | exit | result |" in text and "one sentence, no traceback" in text
    assert isinstance(Outcome("", 0, ""), Outcome)
