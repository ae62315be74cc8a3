"""Two writers of one output and kill -9 while writing it: a second writer is refused in one sentence; a run
folder's config, stamp and predictions always belong to one run; predict's predictions and their config appear
together; a fit killed in its training resumes to the uninterrupted run's weights."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_output_rows import fit_args
from workspace import (
    DESCRIBE_TINY,
    TINY_EVALUATE,
    Outcome,
    Workspace,
    kill_at,
    resumed,
    row,
    same_tensors,
    seen_line,
)

from steervis.card import has_card
from steervis.disk import lock_path
from steervis.outputs import STAMP

pytestmark = pytest.mark.slow


def _race(ws: Workspace, first: list, second: list,
          claimed: Path | None = None) -> tuple[object, subprocess.CompletedProcess]:
    """Start ``first``; once it holds its output's lock, run ``second`` to the end. ``claimed`` is a file the
    first writes while holding the lock (a run folder's stamp, the output's lock file): waiting for it rather
    than a fixed time keeps the race a race on a fast machine, where a tiny run may finish within seconds."""
    proc = ws.start(*first)
    if claimed is None:
        time.sleep(4)  # the first has parsed, checked and locked well before describing its images
    else:
        deadline = time.monotonic() + 120
        while not claimed.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
    return proc, ws.steervis(*second)


def _evaluate(ws: Workspace, out: Path, per_class: int) -> list[object]:
    return ["evaluate", "--data", ws.toy(), "--out", out, "--runs", "zeroshot,linear-probe", *TINY_EVALUATE,
            "--set", "name=same", "--set", f"max_per_class={per_class}"]


@row("race-fit", "two `steervis fit` into one `--out` at once", group="concurrency")
def test_a_second_fit_into_one_out_is_refused(ws, record):
    out = ws.root / "adapter-race"
    args = fit_args(ws, out, "--describe-set", "batch_size=1")
    with pytest.MonkeyPatch.context() as env:  # the lock file the first takes, in the workspace's cache
        env.setenv("STEERVIS_HOME", str(ws.home))
        lock = lock_path(out)
    proc, second = _race(ws, args, args, claimed=lock)
    proc.communicate()
    ok = (second.returncode == 2 and "Another steervis process" in second.stderr and has_card(out)
          and proc.returncode == 0)
    record(Outcome(seen_line(second), second.returncode,
                   "the second refused in one sentence; the first's adapter complete" if ok
                   else f"BOTH RAN OR AN ADAPTER IS MISSING (exits {proc.returncode}, {second.returncode})",
                   ok))


def run_folder_verdict(run: Path) -> tuple[bool, str]:
    """Whether the run folder's config, stamp and predictions belong to one run."""
    from steervis.config import config_hash
    from steervis.outputs import read_stamp

    stamp = read_stamp(run)
    if stamp is None:
        return False, "marked incomplete (no finished stamp)" if run.exists() else "NO RUN FOLDER"
    config = yaml.safe_load((run / "config.yaml").read_text())
    n = len(pd.read_parquet(run / "predictions.parquet"))
    expected = 2 * 3 * config["max_per_class"] * 2  # 2 methods × 3 classes × per class × 2 held-out domains
    if stamp["config_hash"] != config_hash(config) or n != expected:
        return False, "MIXED RUN FOLDER"
    which = f"max_per_class={config['max_per_class']}"
    return True, f"one run's files ({which}): config, stamp and {n} predictions agree"


@row("race-evaluate", "two `steervis evaluate` of one run name with different settings at once",
     group="concurrency")
def test_two_evaluates_of_one_run_name_leave_one_runs_files(ws, record):
    out = ws.root / "runs-race"
    proc, second = _race(ws, _evaluate(ws, out, 3), _evaluate(ws, out, 2), claimed=out / "same" / STAMP)
    proc.communicate()
    ok, verdict = run_folder_verdict(out / "same")
    record(Outcome(seen_line(second), second.returncode, verdict, ok and second.returncode == 2))


@row("kill-evaluate-publish",
     "kill -9 `steervis evaluate` while it writes a run folder's results, then rerun", group="kill -9")
def test_an_evaluate_killed_while_publishing_leaves_one_runs_files(ws, record):
    sub = ws.fresh("kill-publish")
    out = sub.root / "runs"
    sub.steervis(*_evaluate(sub, out, 3))  # an earlier finished run of the same name
    staging = lambda: any(p.name.startswith(".same.partial") for p in out.iterdir())  # noqa: E731
    after_kill: list[tuple[bool, str]] = []
    # Publishing takes a fraction of a second (the report's charts): a 1 ms poll kills inside it.
    killed, rerun = kill_at(sub, _evaluate(sub, out, 2), staging, poll=0.001,
                            between=lambda: after_kill.append(run_folder_verdict(out / "same")))
    (kept, before), (ok, after) = after_kill[0], run_folder_verdict(out / "same")
    head = "killed while publishing, rerun: " if killed else "FINISHED BEFORE THE KILL POINT, rerun: "
    record(Outcome(head + seen_line(rerun), rerun.returncode,
                   f"after the kill: {before}; after the rerun: {after}",
                   killed and kept and ok and "max_per_class=2" in after))


@row("kill-fit-training", "kill -9 `steervis fit` after its first training checkpoint, then rerun",
     group="kill -9")
def test_a_fit_killed_in_its_training_resumes(ws, record):
    def args(w: Workspace) -> list[object]:
        return [*fit_args(w, w.root / "adapter-t", data=w.toy(per_class=2)),
                "--set", "train.checkpoint_every=1", "--set", "train.epochs=4"]

    sub, clean = ws.fresh("kill-fit-training"), ws.fresh("kill-fit-training-clean")
    for w in (sub, clean):  # described first, so the kill lands in the training
        w.steervis("describe", "--data", w.toy(per_class=2), *DESCRIBE_TINY)
    state = lambda: any((sub.home / "checkpoints" / "fit").glob("*/trainer-state.json"))  # noqa: E731
    killed, rerun = kill_at(sub, args(sub), state, poll=0.005)
    clean.steervis(*args(clean))
    equal = same_tensors(sub.root / "adapter-t" / "adapter", clean.root / "adapter-t" / "adapter")
    resumed_training = "resuming training at step" in rerun.stderr
    outcome = resumed(killed, rerun, equal and resumed_training, "adapter weights")
    outcome.seen += " (resumed its training)" if resumed_training else ""
    record(outcome)


@row("kill-predict", "kill -9 `steervis predict` between its predictions and its config, then rerun",
     group="kill -9")
def test_predictions_without_their_config_are_marked_incomplete(ws, record):
    out = ws.root / "p-kill.csv"
    beside = out.with_name(out.name + ".config.yaml")
    ws.steervis("predict", "--adapter", ws.adapter, ws.toy() / "sketch", "--out", out)  # an earlier result
    args = ["predict", "--adapter", ws.adapter, ws.toy() / "photo", "--out", out,
            "--set", "decide.inference=generate"]
    states: list[bool] = []
    # The window between the two files is milliseconds: poll every one.
    killed, rerun = kill_at(ws, args, lambda: not beside.exists(), poll=0.001,
                            between=lambda: states.append(out.exists() and not beside.exists()))
    marked = killed and states[0]
    state = ("FINISHED BEFORE THE KILL POINT" if not killed else "NOT MARKED" if not marked
             else "marked incomplete: the predictions stand without a config")
    header = beside.read_text().splitlines()[0] if beside.exists() else ""
    matches = out.exists() and hashlib.sha256(out.read_bytes()).hexdigest() in header
    record(Outcome(("killed, rerun: " if killed else "") + seen_line(rerun), rerun.returncode,
                   f"{state}; after the rerun the config names the predictions' sha256: "
                   f"{'yes' if matches else 'NO'}",
                   marked and matches and rerun.returncode == 0))
