"""Rows of ``steervis bench reliability`` about what a verb writes: the user's folders, locks, stamps, the
disk.

An output folder is never replaced unless steervis wrote it; a folder's results appear together or not at
all; a second writer is refused in one sentence; a read-only or full disk is said in one sentence before any
compute. See :mod:`steervis.outputs`.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

from steervis.card import card_path, has_card, read_card
from steervis.eval.reliability import FAST_FIT, TINY_EVALUATE, Outcome, Workspace, case, refused, seen_line

THESIS = "years of work"


def _fit(ws: Workspace, out: Path | str, *extra: object, data: Path | None = None) -> list[object]:
    return ["fit", "--data", data or ws.toy(), "--domains", "photo", "--out", out, *FAST_FIT, *extra]


def _kept(path: Path) -> str:
    return ("the user's file kept" if path.exists() and path.read_text() == THESIS
            else "THE USER'S FILE WAS LOST")


def _user_folder(ws: Workspace, name: str) -> Path:
    folder = ws.root / name
    folder.mkdir(exist_ok=True)
    (folder / "thesis.txt").write_text(THESIS)
    return folder


# ---- the user's folders ------------------------------------------------------------------------------------
@case("out-fit-user-folder", "`steervis fit --out DIR` where DIR holds the user's `thesis.txt`")
def _fit_user_folder(ws: Workspace) -> Outcome:
    folder = _user_folder(ws, "mine-fit")
    outcome = refused(ws.steervis(*_fit(ws, folder, "--overwrite")))
    outcome.result += f", {_kept(folder / 'thesis.txt')} (even with --overwrite)"
    return outcome


@case("out-vlm-user-folder", "`steervis vlm train --out DIR` where DIR holds the user's `thesis.txt`")
def _vlm_user_folder(ws: Workspace) -> Outcome:
    folder = _user_folder(ws, "mine-vlm")
    outcome = refused(ws.steervis("vlm", "train", "--stage", "1", "--lm", "tiny-llama", "--out", folder,
                                  "--set", "train.max_steps=1", "--quiet"))
    outcome.result += f", {_kept(folder / 'thesis.txt')}"
    return outcome


@case("out-fit-into-data", "`steervis fit --data toy --out toy` (the output is the dataset)")
def _fit_into_data(ws: Workspace) -> Outcome:
    data = ws.toy("toy-into")
    before = sorted(data.rglob("*.png"))
    outcome = refused(ws.steervis(*_fit(ws, data, data=data)))
    outcome.result += (", dataset intact" if sorted(data.rglob("*.png")) == before
                       else ", THE DATASET WAS CHANGED")
    return outcome


@case("out-evaluate-into-data", "`steervis evaluate --data toy --out toy` (run folders inside the dataset)")
def _evaluate_into_data(ws: Workspace) -> Outcome:
    from steervis.eval.reliability import tiny_runs

    data = ws.toy("toy-eval-into")
    before = sorted(p.name for p in data.iterdir())
    proc = ws.steervis("evaluate", "--data", data, "--out", data, *tiny_runs("zeroshot"),
                       *TINY_EVALUATE)
    outcome = refused(proc)
    outcome.result += ", dataset intact" if sorted(p.name for p in data.iterdir()) == before else \
        ", A RUN FOLDER WAS ADDED TO THE DATASET"
    return outcome


@case("out-fit-dot", "`steervis fit --out .` run inside the dataset's parent")
def _fit_dot(ws: Workspace) -> Outcome:
    return refused(ws.steervis(*_fit(ws, ".")))


@case("out-fit-again", "`steervis fit` into its own earlier output, without `--overwrite`")
def _fit_again(ws: Workspace) -> Outcome:
    card = card_path(ws.adapter).read_text()
    outcome = refused(ws.steervis(*_fit(ws, ws.adapter)))
    outcome.result += ", the earlier adapter kept" if card_path(ws.adapter).read_text() == card else \
        ", THE EARLIER ADAPTER CHANGED"
    return outcome


@case("out-rerun-user-notes", "`steervis evaluate` rerun after the user added `notes.md` to its run folder")
def _rerun_user_notes(ws: Workspace) -> Outcome:
    args = ["evaluate", "--data", ws.toy(), "--out", ws.root / "runs-notes", "--runs", "zeroshot",
            *TINY_EVALUATE, "--set", "name=mine"]
    ws.steervis(*args)
    notes = ws.root / "runs-notes" / "mine" / "notes.md"
    notes.write_text(THESIS)
    outcome = refused(ws.steervis(*args, "--set", "max_per_class=2"))
    outcome.result += f", {_kept(notes)}"
    return outcome


@case("out-toy-into-cache", "`steervis data toy --root $STEERVIS_HOME/models` (the cache's trained models)")
def _toy_into_cache(ws: Workspace) -> Outcome:
    models = ws.home / "models"
    (models / "vlm" / "stage2").mkdir(parents=True, exist_ok=True)
    card_path(models / "vlm" / "stage2").write_text('{"vlm": {}}')
    outcome = refused(ws.steervis("data", "toy", "--root", models))
    outcome.result += ", the trained model kept" if has_card(models / "vlm" / "stage2") else \
        ", THE TRAINED MODEL WAS DELETED"
    return outcome


# ---- two writers, one output -------------------------------------------------------------------------------
def _race(ws: Workspace, first: list[object], second: list[object]) -> tuple[subprocess.Popen, object]:
    """Start ``first``; once it holds its output's lock (it logs its first line), run ``second`` to the
    end."""
    proc = ws.start(*first)
    time.sleep(4)  # the first has parsed, checked and locked well before describing its images
    return proc, ws.steervis(*second)


@case("race-fit", "two `steervis fit` into one `--out` at once", group="concurrency")
def _race_fit(ws: Workspace) -> Outcome:
    out = ws.root / "adapter-race"
    args = _fit(ws, out, "--describe-set", "batch_size=1")
    proc, second = _race(ws, args, args)
    proc.communicate()
    refused_second = second.returncode == 2 and "Another steervis process" in second.stderr
    card = read_card(out) if has_card(out) else None
    result = ("the second refused in one sentence; the first's adapter complete"
              if refused_second and card and proc.returncode == 0
              else f"BOTH RAN OR AN ADAPTER IS MISSING (exits {proc.returncode}, {second.returncode})")
    return Outcome(seen_line(second), second.returncode, result)


@case("race-evaluate", "two `steervis evaluate` of one run name with different settings at once",
      group="concurrency")
def _race_evaluate(ws: Workspace) -> Outcome:
    def args(per_class: int) -> list[object]:
        return ["evaluate", "--data", ws.toy(), "--out", ws.root / "runs-race",
                "--runs", "zeroshot,linear-probe", *TINY_EVALUATE, "--set", "name=same",
                "--set", f"max_per_class={per_class}"]

    proc, second = _race(ws, args(3), args(2))
    proc.communicate()
    return Outcome(seen_line(second), second.returncode, _run_folder_verdict(ws.root / "runs-race" / "same"))


def _run_folder_verdict(run: Path) -> str:
    """Whether the run folder's config, stamp and predictions belong to one run."""
    import pandas as pd

    from steervis.config import config_hash
    from steervis.outputs import read_stamp

    stamp = read_stamp(run)
    if stamp is None:
        return "marked incomplete (no finished stamp)" if run.exists() else "NO RUN FOLDER"
    config = yaml.safe_load((run / "config.yaml").read_text())
    n = len(pd.read_parquet(run / "predictions.parquet"))
    expected = 2 * 3 * config["max_per_class"] * 2  # 2 methods × 3 classes × per class × 2 held-out domains
    ok = stamp["config_hash"] == config_hash(config) and n == expected
    which = f"max_per_class={config['max_per_class']}"
    return f"one run's files ({which}): config, stamp and {n} predictions agree" if ok else "MIXED RUN FOLDER"


# ---- kill -9 while publishing ------------------------------------------------------------------------------
@case("kill-evaluate-publish",
      "kill -9 `steervis evaluate` while it writes a run folder's results, then rerun", group="kill -9")
def _kill_publish(ws: Workspace) -> Outcome:
    from steervis.eval.reliability import kill_at

    sub = ws.fresh("kill-publish")
    out = sub.root / "runs"

    def args(per_class: int) -> list[object]:
        return ["evaluate", "--data", sub.toy(), "--out", out, "--runs", "zeroshot,linear-probe",
                *TINY_EVALUATE, "--set", "name=same", "--set", f"max_per_class={per_class}"]

    sub.steervis(*args(3))  # an earlier finished run of the same name
    staging = lambda: any(p.name.startswith(".same.partial") for p in out.iterdir())  # noqa: E731
    after_kill: list[str] = []
    # Publishing takes a fraction of a second (the report's charts): a 1 ms poll kills inside it.
    killed, rerun = kill_at(sub, args(2), staging, poll=0.001,
                            between=lambda: after_kill.append(_run_folder_verdict(out / "same")))
    head = "killed while publishing, rerun: " if killed else "FINISHED BEFORE THE KILL POINT, rerun: "
    return Outcome(head + seen_line(rerun), rerun.returncode,
                   f"after the kill: {after_kill[0]}; after the rerun: {_run_folder_verdict(out / 'same')}")


@case("kill-fit-training", "kill -9 `steervis fit` after its first training checkpoint, then rerun",
      group="kill -9")
def _kill_fit_training(ws: Workspace) -> Outcome:
    from safetensors.torch import load_file

    from steervis.eval.reliability import kill_at, resumed

    def args(w: Workspace) -> list[object]:
        return [*_fit(w, w.root / "adapter-t"), "--set", "train.checkpoint_every=1",
                "--set", "train.epochs=4"]

    sub, clean = ws.fresh("kill-fit-training"), ws.fresh("kill-fit-training-clean")
    for w in (sub, clean):  # described first, so the kill lands in the training
        w.steervis("describe", "--data", w.toy(), "--quiet", "--preset", "describe-tiny")
    state = lambda: any((sub.home / "checkpoints" / "fit").glob("*/trainer-state.json"))  # noqa: E731
    killed, rerun = kill_at(sub, args(sub), state, poll=0.005)
    clean.steervis(*args(clean))
    weights = "adapter-t/adapter/adapter_model.safetensors"
    try:
        a, b = load_file(str(sub.root / weights)), load_file(str(clean.root / weights))
        equal = a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)
    except OSError:
        equal = False
    outcome = resumed(killed, rerun, equal and "resuming training at step" in rerun.stderr, "adapter weights")
    outcome.seen = outcome.seen + (" (resumed its training)" if "resuming training" in rerun.stderr else "")
    return outcome


@case("kill-predict", "kill -9 `steervis predict` between its predictions and its config, then rerun",
      group="kill -9")
def _kill_predict(ws: Workspace) -> Outcome:
    import hashlib

    from steervis.eval.reliability import kill_at

    out = ws.root / "p-kill.csv"
    beside = out.with_name(out.name + ".config.yaml")
    ws.steervis("predict", "--adapter", ws.adapter, ws.toy() / "sketch", "--out", out)  # an earlier result
    args = ["predict", "--adapter", ws.adapter, ws.toy() / "photo", "--out", out,
            "--set", "decide.inference=generate"]
    states: list[str] = []

    def look() -> None:
        states.append("marked incomplete: the predictions stand without a config" if out.exists() and
                      not beside.exists() else "NOT MARKED")

    # The window between the two files is milliseconds: poll every one.
    killed, rerun = kill_at(ws, args, lambda: not beside.exists(), poll=0.001, between=look)
    state = states[0] if killed else "FINISHED BEFORE THE KILL POINT"
    header = beside.read_text().splitlines()[0] if beside.exists() else ""
    matches = out.exists() and hashlib.sha256(out.read_bytes()).hexdigest() in header
    return Outcome(("killed, rerun: " if killed else "") + seen_line(rerun), rerun.returncode,
                   f"{state}; after the rerun the config names the predictions' sha256: "
                   f"{'yes' if matches else 'NO'}")


# ---- the disk ----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _mounted(folder: Path, options: str) -> Iterator[bool]:
    """A small tmpfs at ``folder`` (root only): read-only or nearly full disks without touching the real
    one."""
    folder.mkdir(parents=True, exist_ok=True)
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                        capture_output=True).returncode == 0
    try:
        yield ok
    finally:
        if ok:
            subprocess.run(["umount", str(folder)], capture_output=True)


@case("disk-readonly-out", "`steervis predict --out` on a read-only disk")
def _readonly_out(ws: Workspace) -> Outcome:
    with _mounted(ws.root / "ro", "ro,size=1m") as ok:
        if not ok:
            return Outcome("", None, "skipped: mounting a test disk needs root")
        return refused(ws.steervis("predict", "--adapter", ws.adapter, ws.toy() / "photo",
                                   "--out", ws.root / "ro" / "p.csv"))


@case("disk-readonly-home", "a read-only STEERVIS_HOME")
def _readonly_home(ws: Workspace) -> Outcome:
    sub = ws.fresh("ro-home")
    with _mounted(sub.home, "ro,size=1m") as ok:
        if not ok:
            return Outcome("", None, "skipped: mounting a test disk needs root")
        return refused(sub.steervis("describe", "--data", ws.toy(), "--quiet", "--preset", "describe-tiny"))


@case("disk-full-out", "`steervis fit --out` on a disk with 1 MB free")
def _full_out(ws: Workspace) -> Outcome:
    with _mounted(ws.root / "full", "size=1m") as ok:
        if not ok:
            return Outcome("", None, "skipped: mounting a test disk needs root")
        out = ws.root / "full" / "adapter"
        outcome = refused(ws.steervis(*_fit(ws, out)), absent=out)
        outcome.result += ", before any compute" if "describe" not in outcome.seen else ", AFTER THE COMPUTE"
        return outcome
