"""`steervis bench reliability`: cases are a registry; one cheap row runs for real and lands in the table."""

from __future__ import annotations

import subprocess

from steervis.eval.benchmarks import BENCHMARKS
from steervis.eval.reliability import CASES, Outcome, seen_line
from steervis.eval.reliability_cases import bench_reliability


def test_every_issue_11_row_is_registered():
    import steervis.eval.reliability_cases  # noqa: F401

    names = CASES.names()
    for prefix, at_least in [("input-", 15), ("stale-", 2), ("cache-", 4), ("race-", 2), ("kill-", 3)]:
        assert sum(n.startswith(prefix) for n in names) >= at_least, prefix
    assert "reliability" in BENCHMARKS.names()


def test_seen_line_prefers_the_error_then_a_traceback_then_a_warning():
    def proc(err, out=""):
        return subprocess.CompletedProcess([], 2, out, err)

    assert seen_line(proc("INFO x\nsteervis: error: bad.\n")) == "steervis: error: bad."
    assert seen_line(proc("Traceback (most recent call last):\n  ...\nValueError: boom\n")).endswith("boom")
    assert seen_line(proc("INFO a\nWARNING b\n")) == "WARNING b"
    assert seen_line(proc("", "done\n")) == "(stdout) done"


def test_a_row_runs_in_a_subprocess_and_lands_in_the_markdown(tmp_path):
    out = tmp_path / "RELIABILITY.md"
    result = bench_reliability(out=str(out), only="input-config-folder")
    (row,) = result["rows"]
    assert row["exit"] == 2 and row["seen"].startswith("steervis: error:") and "is a folder" in row["seen"]
    text = out.read_text()
    assert "| input | what the user sees | exit | result |" in text and "one sentence, no traceback" in text
    assert isinstance(Outcome("", 0, ""), Outcome)
