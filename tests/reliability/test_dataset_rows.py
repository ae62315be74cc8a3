"""Results that would be wrong without a word about the data: a paired difference between runs that saw other
images, a run name leading out of ``--out``, symlinked folders pulling images into training, ``retrieve
--out`` writing another format than its suffix names, one damaged model card hiding ``steervis models``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from workspace import TINY_EVALUATE, Outcome, Workspace, refused, row, seen_line, tiny_runs, toy_pool

from steervis.card import CARD_NAME, ModelCard, ReactSection, card_path

pytestmark = pytest.mark.slow


def _evaluate(data: Path, out: Path, methods: str, *extra: str) -> list:
    return ["evaluate", "--data", data, "--out", out, *tiny_runs(methods), *TINY_EVALUATE, *extra]


def _edited_copy(ws: Workspace, name: str) -> Path:
    """The toy dataset again with one image's pixels changed: the same paths, one other image."""
    from PIL import Image

    data = ws.root / name
    if not data.exists():
        shutil.copytree(ws.toy(), data)
        image = sorted((data / "sketch" / "circle").glob("*.png"))[0]
        with Image.open(image) as img:
            edited = img.convert("RGB")
        edited.putpixel((0, 0), (255, 0, 0) if edited.getpixel((0, 0)) != (255, 0, 0) else (0, 0, 255))
        edited.save(image)
    return data


@row("input-paired-other-images", "`steervis study paired --set run=A,B` on runs whose images differ "
     "(same paths, one image edited)")
def test_a_paired_difference_of_runs_on_other_images_is_refused(ws, record):
    runs = ws.root / "runs-paired"
    ws.steervis(*_evaluate(ws.toy(), runs, "zeroshot", "--set", "name=a"))
    ws.steervis(*_evaluate(_edited_copy(ws, "toy-edited"), runs, "zeroshot@other", "--set", "name=b"))
    proc = ws.steervis("study", "paired", "--set", f"run={runs / 'a'},{runs / 'b'}", "--set", "a=zeroshot",
                       "--set", "b=zeroshot@other")
    record(refused(proc).also("1 of zeroshot's" in proc.stderr, ", the count of differing images named",
                              ", BUT NO COUNT OF DIFFERING IMAGES"))


@row("input-run-name-escapes",
     "`steervis evaluate --set name=../../escaped` (a run name leading out of --out)")
def test_a_run_name_leading_out_of_out_is_refused(ws, record):
    outside = ws.root / "name-escape"  # where ../../escaped would land: still inside the workspace
    args = _evaluate(ws.toy(), outside / "a" / "runs", "zeroshot", "--set", "name=../../escaped")
    proc = ws.steervis(*args)
    record(refused(proc, absent=outside))


@row("input-data-link-into-training", "`steervis evaluate` on a dataset whose photo/star folder is a symlink "
     "to sketch/circle (held-out images in training, under the wrong label)")
def test_held_out_images_linked_into_training_are_refused(ws, record):
    data = ws.root / "toy-linked-inside"
    if not data.exists():
        shutil.copytree(ws.toy(), data)
        (data / "photo" / "star").symlink_to("../sketch/circle", target_is_directory=True)
    out = ws.root / "runs-linked-inside"
    proc = ws.steervis(*_evaluate(data, out, "zeroshot"))
    warned = "under two classes" in proc.stderr and "in two domains" in proc.stderr
    record(refused(proc, absent=out).also(warned, ", the copies reported in a warning",
                                          ", BUT NO WARNING ABOUT THE COPIES"))


@row("input-data-link-outside", "`steervis data summary` on a dataset with a class folder symlinked to "
     "images outside it, then with `--follow-links`")
def test_a_link_leading_outside_the_dataset_is_followed_only_when_asked(ws, record):
    data = ws.root / "toy-linked-outside"
    if not data.exists():
        shutil.copytree(ws.toy(), data)
        (data / "photo" / "star").symlink_to(ws.toy() / "sketch" / "circle", target_is_directory=True)
    plain = ws.steervis("data", "summary", "--data", data)
    followed = ws.steervis("data", "summary", "--data", data, "--follow-links")
    counts = [_images(p.stdout) for p in (plain, followed)]
    ok = plain.returncode == 0 and "--follow-links" in plain.stderr and counts == [24, 28]
    record(Outcome(seen_line(plain), plain.returncode,
                   f"not followed ({counts[0]} images), said in one warning; --follow-links reads it "
                   f"({counts[1]} images)" if ok else f"IMAGES {counts} (24 without the link, 28 with it)",
                   ok))


def _images(stdout: str) -> int | None:
    first = stdout.splitlines()[0] if stdout.strip() else ""
    words = first.split(": ", 1)[-1].split()
    return int(words[0]) if words and words[0].isdigit() else None


@row("input-retrieve-out-csv", "`steervis retrieve --out pairs.csv`")
def test_retrieve_writes_the_format_its_suffix_names(ws, record):
    toy_pool(ws)
    out = ws.root / "retrieved.csv"
    proc = ws.steervis("retrieve", "--classes", "circle", "--k", "3", "--quiet", "--out", out)
    try:
        rows = len(pd.read_csv(out)) if proc.returncode == 0 else -1
    except (OSError, ValueError, UnicodeDecodeError):  # Parquet bytes under a .csv name
        rows = -1
    record(Outcome(seen_line(proc), proc.returncode, f"a CSV file of {rows} pairs" if rows > 0
                   else "NOT A READABLE CSV FILE", rows > 0))


@row("input-retrieve-out-suffix", "`steervis retrieve --out pairs.txt` (a suffix that names no table format)")
def test_retrieve_refuses_a_suffix_naming_no_format(ws, record):
    out = ws.root / "retrieved.txt"
    record(refused(ws.steervis("retrieve", "--classes", "circle", "--quiet", "--out", out), absent=out))


@row("input-models-damaged-card", f"`steervis models` with one customized matcher's {CARD_NAME} damaged")
def test_models_lists_around_a_damaged_card(ws, record):
    sub = ws.fresh("models-damaged")
    react = sub.home / "models" / "react"
    section = ReactSection(name="react", weights="head.safetensors", head_hash="h", pool_hash="p",
                           classes=["a", "b"])
    good = ModelCard(kind="react-head", base="conse", data={"pairs": 4}, metrics={"losses": [0.5]},
                     react=section)
    for name, text in [("broken", "{not json"), ("good", good.to_json())]:
        (react / name).mkdir(parents=True, exist_ok=True)
        card_path(react / name).write_text(text)
    proc = sub.steervis("models")
    lines = proc.stdout.splitlines()
    damaged = next((line.strip() for line in lines if line.strip().startswith("broken")), "")
    listed = any(line.split()[:2] == ["good", "react"] for line in lines)
    ok = proc.returncode == 0 and f"broken/{CARD_NAME}" in damaged and listed
    seen = f"(stdout) {damaged}".replace(str(sub.home), "$STEERVIS_HOME") if damaged else seen_line(proc)
    record(Outcome(seen, proc.returncode, "listed around it: the damaged entry named with its path and "
                   "reason, the rest listed" if ok else "THE LISTING BROKE OR HID THE DAMAGED ENTRY", ok))
