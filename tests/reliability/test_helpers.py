"""The reliability tests' own machinery, checked fast: what a row says a user saw, the verdicts, the table and
how it is compared with docs/RELIABILITY.md."""

from __future__ import annotations

import subprocess

from table import differences, render, stable
from test_vlm_train import trained_line
from workspace import Outcome, refused, same_tensors, seen_line


def _proc(err: str, out: str = "", code: int = 2) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess([], code, out, err)


def test_seen_line_prefers_the_error_then_a_traceback_then_a_warning():
    assert seen_line(_proc("INFO x\nsteervis: error: bad.\n")) == "steervis: error: bad."
    assert seen_line(_proc("Traceback (most recent call last):\n  ...\nValueError: boom\n")).endswith("boom")
    assert seen_line(_proc("INFO a\nWARNING b\n")) == "WARNING b"
    assert seen_line(_proc("", "done\n")) == "(stdout) done"
    usage = ("usage: steervis caption [-h] PATH\nsteervis caption: error: the following arguments are "
             "required: PATH\n")
    assert seen_line(_proc(usage)).startswith("steervis caption: error:")  # argparse's usage error
    assert refused(_proc(usage)).ok


def test_refused_fails_on_a_traceback_another_exit_or_a_written_output(tmp_path):
    assert not refused(_proc("steervis: error: bad.\n", code=1)).ok
    assert not refused(_proc("Traceback (most recent call last):\nsteervis: error: bad.\n")).ok
    assert not refused(_proc("steervis: error: one.\nsteervis: error: two.\n")).ok
    (tmp_path / "out").mkdir()
    outcome = refused(_proc("steervis: error: bad.\n"), absent=tmp_path / "out")
    assert not outcome.ok and outcome.result.endswith("BUT out WAS WRITTEN")
    assert Outcome("", 0, "a").also(True, ", b", ", C").result == "a, b"


def test_same_tensors_compares_every_safetensors_file_bit_for_bit(tmp_path):
    import torch
    from safetensors.torch import save_file

    for name, bump in [("a", 0.0), ("b", 0.0), ("c", 1e-7)]:
        (tmp_path / name / "adapter").mkdir(parents=True)
        save_file({"w": torch.ones(3)}, str(tmp_path / name / "projector.safetensors"))
        adapter = tmp_path / name / "adapter" / "adapter_model.safetensors"
        save_file({"w": torch.zeros(2) + bump}, str(adapter))
    assert same_tensors(tmp_path / "a", tmp_path / "b")
    assert not same_tensors(tmp_path / "a", tmp_path / "c")  # a nested file differs
    (tmp_path / "b" / "adapter" / "adapter_model.safetensors").unlink()
    assert not same_tensors(tmp_path / "a", tmp_path / "b")  # a file missing
    (tmp_path / "empty").mkdir()
    assert not same_tensors(tmp_path / "empty", tmp_path / "empty")  # nothing saved is not "equal"


def test_trained_line_says_where_a_rerun_resumed():
    line = trained_line('{"stage": 2, "out": "/x", "resumed_from": 3, "steps": 72, "loss_last": 1.0}')
    assert line == "(stdout) stage 2 resumed at step 3, ran to step 72, saved to /x"
    assert "started at step 0" in trained_line('{"stage": 1, "out": "/x", "resumed_from": 0, "steps": 5}')
    assert trained_line("{") == ""


def test_the_table_leaves_out_durations_and_hashes():
    line = ("WARNING steervis.atomic: part <tmp>/descriptions/9c984c0678f6863b/part-0179660-111d0866.parquet"
            " is damaged; 24 files: 8 described; 0.8 images/s described; 17.8 s; 3 steps in 0.4 s")
    assert stable(line) == ("WARNING steervis.atomic: part <tmp>/descriptions/<hash>/part-<hash>.parquet is "
                            "damaged; 24 files: 8 described; 3 steps")
    assert stable("run folder <tmp>/toy/dg-6763099751 lies") == "run folder <tmp>/toy/dg-<hash> lies"


def test_the_doc_is_compared_row_by_row_kill_rows_without_their_numbers():
    rows = {"input-a": ("bad input", "`a`", Outcome("steervis: error: A.", 2, "one sentence")),
            "kill-b": ("kill -9", "kill b", Outcome("killed, rerun: 23 described", 0, "resumed"))}
    doc = render(rows)
    assert differences(doc, doc) == []
    rows["kill-b"] = ("kill -9", "kill b", Outcome("killed, rerun: 22 described", 0, "resumed"))
    assert differences(doc, render(rows)) == []  # where the kill landed
    rows["input-a"] = ("bad input", "`a`", Outcome("steervis: error: B.", 2, "one sentence"))
    assert [p.split(":")[0] for p in differences(doc, render(rows))] == ["row changed"]
    only_a = {"input-a": rows["input-a"]}
    assert len(differences(render(rows), render(only_a))) == 0  # a row not run here is not compared
    only_a["input-c"] = ("bad input", "`c`", Outcome("steervis: error: C.", 2, "one sentence"))
    new = "new row: bad input: | `c` | `steervis: error: C.` | 2 | one sentence |"
    assert differences(render(rows), render(only_a)) == [new]
