"""What a verb writes: an output folder is never replaced unless steervis wrote it, the input is never the
output, and a read-only or full disk is said in one sentence before any compute (see ``steervis.outputs``)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from workspace import DESCRIBE_TINY, FAST_FIT, TINY_EVALUATE, Workspace, refused, row, tiny_runs

from steervis.card import card_path, has_card

pytestmark = pytest.mark.slow

THESIS = "years of work"


def fit_args(ws: Workspace, out: Path | str, *extra: object, data: Path | None = None) -> list[object]:
    return ["fit", "--data", data or ws.toy(), "--domains", "photo", "--out", out, *FAST_FIT, *extra]


def _kept(path: Path) -> bool:
    return path.exists() and path.read_text() == THESIS


def _user_folder(ws: Workspace, name: str) -> Path:
    folder = ws.root / name
    folder.mkdir(exist_ok=True)
    (folder / "thesis.txt").write_text(THESIS)
    return folder


@row("out-fit-user-folder", "`steervis fit --out DIR` where DIR holds the user's `thesis.txt`")
def test_fit_never_replaces_a_users_folder(ws, record):
    folder = _user_folder(ws, "mine-fit")
    outcome = refused(ws.steervis(*fit_args(ws, folder, "--overwrite")))
    record(outcome.also(_kept(folder / "thesis.txt"), ", the user's file kept (even with --overwrite)",
                        ", THE USER'S FILE WAS LOST (with --overwrite)"))


@row("out-vlm-user-folder", "`steervis vlm train --out DIR` where DIR holds the user's `thesis.txt`")
def test_vlm_train_never_replaces_a_users_folder(ws, record):
    folder = _user_folder(ws, "mine-vlm")
    outcome = refused(ws.steervis("vlm", "train", "--stage", "1", "--lm", "tiny-llama", "--out", folder,
                                  "--set", "train.max_steps=1", "--quiet"))
    record(outcome.also(_kept(folder / "thesis.txt"), ", the user's file kept", ", THE USER'S FILE WAS LOST"))


@row("out-fit-into-data", "`steervis fit --data toy --out toy` (the output is the dataset)")
def test_fit_into_its_dataset_is_refused(ws, record):
    data = ws.toy("toy-into")
    before = sorted(data.rglob("*.png"))
    outcome = refused(ws.steervis(*fit_args(ws, data, data=data)))
    intact = sorted(data.rglob("*.png")) == before
    record(outcome.also(intact, ", dataset intact", ", THE DATASET WAS CHANGED"))


@row("out-evaluate-into-data", "`steervis evaluate --data toy --out toy` (run folders inside the dataset)")
def test_evaluate_into_its_dataset_is_refused(ws, record):
    data = ws.toy("toy-eval-into")
    before = sorted(p.name for p in data.iterdir())
    outcome = refused(ws.steervis("evaluate", "--data", data, "--out", data, *tiny_runs("zeroshot"),
                                  *TINY_EVALUATE))
    record(outcome.also(sorted(p.name for p in data.iterdir()) == before, ", dataset intact",
                        ", A RUN FOLDER WAS ADDED TO THE DATASET"))


@row("out-fit-dot", "`steervis fit --out .` run inside the dataset's parent")
def test_fit_into_the_folder_holding_the_dataset_is_refused(ws, record):
    record(refused(ws.steervis(*fit_args(ws, "."))))


@row("out-fit-again", "`steervis fit` into its own earlier output, without `--overwrite`")
def test_fit_into_its_earlier_output_needs_overwrite(ws, record):
    card = card_path(ws.adapter).read_text()
    outcome = refused(ws.steervis(*fit_args(ws, ws.adapter)))
    record(outcome.also(card_path(ws.adapter).read_text() == card, ", the earlier adapter kept",
                        ", THE EARLIER ADAPTER CHANGED"))


@row("out-rerun-user-notes", "`steervis evaluate` rerun after the user added `notes.md` to its run folder")
def test_a_rerun_keeps_the_users_notes(ws, record):
    args = ["evaluate", "--data", ws.toy(), "--out", ws.root / "runs-notes", "--runs", "zeroshot",
            *TINY_EVALUATE, "--set", "name=mine"]
    ws.steervis(*args)
    notes = ws.root / "runs-notes" / "mine" / "notes.md"
    notes.write_text(THESIS)
    outcome = refused(ws.steervis(*args, "--set", "max_per_class=2"))
    record(outcome.also(_kept(notes), ", the user's file kept", ", THE USER'S FILE WAS LOST"))


@row("out-toy-into-cache", "`steervis data toy --root $STEERVIS_HOME/models` (the cache's trained models)")
def test_a_toy_dataset_never_replaces_the_caches_models(ws, record):
    ws = ws.fresh("toy-into-cache")  # a cache holding a trained model and nothing else
    models = ws.home / "models"
    (models / "vlm" / "stage2").mkdir(parents=True, exist_ok=True)
    card_path(models / "vlm" / "stage2").write_text('{"vlm": {}}')
    outcome = refused(ws.steervis("data", "toy", "--root", models))
    record(outcome.also(has_card(models / "vlm" / "stage2"), ", the trained model kept",
                        ", THE TRAINED MODEL WAS DELETED"))


@contextlib.contextmanager
def _mounted(folder: Path, options: str) -> Iterator[None]:
    """A small tmpfs at ``folder`` (root only): a read-only or nearly full disk, the real one untouched."""
    folder.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a test disk needs root")
    try:
        yield
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


@row("disk-readonly-out", "`steervis predict --out` on a read-only disk")
def test_a_read_only_output_disk_is_one_sentence(ws, record):
    with _mounted(ws.root / "ro", "ro,size=1m"):
        record(refused(ws.steervis("predict", "--adapter", ws.adapter, ws.toy() / "photo",
                                   "--out", ws.root / "ro" / "p.csv")))


@row("disk-readonly-home", "a read-only STEERVIS_HOME")
def test_a_read_only_cache_is_one_sentence(ws, record):
    sub = ws.fresh("ro-home")
    with _mounted(sub.home, "ro,size=1m"):
        record(refused(sub.steervis("describe", "--data", ws.toy(), *DESCRIBE_TINY)))


@row("disk-full-out", "`steervis fit --out` on a disk with 1 MB free")
def test_a_full_disk_is_said_before_any_compute(ws, record):
    with _mounted(ws.root / "full", "size=1m"):
        out = ws.root / "full" / "adapter"
        outcome = refused(ws.steervis(*fit_args(ws, out)), absent=out)
        record(outcome.also("describe" not in outcome.seen, ", before any compute", ", AFTER THE COMPUTE"))
