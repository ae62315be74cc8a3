"""Bad inputs to evaluate, fit and predict: one sentence naming the fix, exit 2, nothing half-written; an
input that is odd but usable is used, with one warning."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from workspace import FAST_FIT, Outcome, evaluate_args, refused, row, seen_line, truncate

from steervis.card import CARD_NAME, card_path

pytestmark = pytest.mark.slow

SETS = [("float-for-int", "max_per_class=2.5"), ("list-for-int", "seed=[1,2]"), ("int-for-list", "runs=5"),
        ("old-spelling", "method_options=5"), ("int-for-section", "uda=5"),
        ("unknown-describe-key", "describe.matchr=tiny-clip")]


@pytest.mark.parametrize("name, value", [
    pytest.param(n, v, id=n, marks=row(f"input-set-{n}", f"`steervis evaluate --set {v}`")) for n, v in SETS])
def test_a_bad_set_value_is_refused(ws, record, name, value):
    out = ws.root / f"runs-{name}"
    record(refused(ws.steervis(*evaluate_args(ws, "--set", value, out=out.name)), absent=out))


@row("input-config-folder", "`steervis evaluate --config <a folder>`")
def test_a_config_folder_is_refused(ws, record):
    record(refused(ws.steervis("evaluate", "--config", ws.root, "--print-config")))


@row("input-runs-empty", "`steervis evaluate --set runs=[]`")
def test_no_runs_is_refused(ws, record):
    out = ws.root / "runs-empty"
    record(refused(ws.steervis("evaluate", "--data", ws.toy(), "--set", "runs=[]", "--out", out), absent=out))


@row("input-evaluate-out-file", "`steervis evaluate --out <an existing file>`")
def test_evaluate_into_a_file_is_refused(ws, record):
    (ws.root / "a-file").write_text("keep me")
    record(refused(ws.steervis(*evaluate_args(ws, out="a-file"))))


@row("input-one-class-split", "held-out split whose training domains hold one class")
def test_a_split_training_on_one_class_is_refused(ws, record):
    data = ws.toy("one-class-train")
    for cls in ("square", "triangle"):
        shutil.rmtree(data / "photo" / cls, ignore_errors=True)
    cmd = ["evaluate", "--data", data, "--runs", "linear-probe", "--set", "held_out=[sketch]",
           "--out", ws.root / "runs-one"]
    record(refused(ws.steervis(*cmd), absent=ws.root / "runs-one"))


@row("input-case-classes", "classes `Circle` and `circle` (differ only by case)")
def test_classes_differing_by_case_are_named_in_a_warning(ws, record):
    data = ws.toy("case-classes")
    for domain in ("photo", "sketch"):
        if (data / domain / "square").exists():
            (data / domain / "square").rename(data / domain / "Circle")
    proc = ws.steervis(*evaluate_args(ws, data=data, out="runs-case"))
    named = proc.returncode == 0 and "'Circle'" in proc.stderr and "'circle'" in proc.stderr
    record(Outcome(seen_line(proc), proc.returncode, "", True).also(
        named, "warning names both; kept as two classes", "NO WARNING NAMING BOTH"))


@row("input-fit-one-class", "`steervis fit` on a folder with one class")
def test_fit_on_one_class_is_refused(ws, record):
    data = ws.toy("one-class")
    for domain in ("photo", "sketch"):
        for cls in ("square", "triangle"):
            shutil.rmtree(data / domain / cls, ignore_errors=True)
    out = ws.root / "adapter-one"
    record(refused(ws.steervis("fit", "--data", data, "--out", out, *FAST_FIT), absent=out))


@row("input-fit-out-file", "`steervis fit --out <an existing file>`")
def test_fit_into_a_file_is_refused_and_the_file_kept(ws, record):
    (ws.root / "a-file").write_text("keep me")
    outcome = refused(ws.steervis("fit", "--data", ws.toy(), "--out", ws.root / "a-file", *FAST_FIT))
    kept = (ws.root / "a-file").read_text() == "keep me"
    record(outcome.also(kept, ", the file kept", ", THE FILE WAS LOST"))


DAMAGES: list[tuple[str, str, Callable[[Path], None]]] = [
    ("bad-card", f"a {CARD_NAME} that is not JSON", lambda f: card_path(f).write_text("{not json")),
    ("empty-card", f"{CARD_NAME} `{{}}`", lambda f: card_path(f).write_text("{}")),
    ("no-adapter", "no adapter/ folder", lambda f: shutil.rmtree(f / "adapter")),
    ("truncated", "truncated adapter safetensors",
     lambda f: truncate(f / "adapter" / "adapter_model.safetensors")),
]


@pytest.mark.parametrize("name, damage", [
    pytest.param(n, d, id=n, marks=row(f"input-adapter-{n}", f"`steervis predict --adapter` folder with {t}"))
    for n, t, d in DAMAGES])
def test_a_damaged_adapter_is_refused(ws, record, name, damage):
    folder = ws.root / f"adapter-{name}"
    if not folder.exists():
        shutil.copytree(ws.adapter, folder)
        damage(folder)
    out = ws.root / f"p-{name}.csv"
    proc = ws.steervis("predict", "--adapter", folder, ws.toy() / "sketch", "--out", out)
    record(refused(proc, absent=out))


@row("input-predict-manifest", "`steervis predict` on a manifest with a non-image, a deleted file and "
     "`../../etc/passwd`")
def test_predict_skips_each_unusable_manifest_entry_with_a_reason(ws, record):
    data = ws.toy("toy-manifest")
    (data / "notes.png").write_text("not an image")
    first = sorted((data / "sketch" / "circle").glob("*.png"))[0].relative_to(data)
    pd.DataFrame({"path": [str(first), "notes.png", "deleted.png", "../../etc/passwd"]}).to_csv(
        data / "list.csv", index=False)
    out = ws.root / "p-manifest.csv"
    proc = ws.steervis("predict", "--adapter", ws.adapter, data / "list.csv", "--out", out)
    rows = len(pd.read_csv(out)) if out.exists() else 0
    skipped = re.search(r"skipped (\d+)", proc.stdout)
    ok = proc.returncode == 0 and rows == 1 and skipped is not None and skipped.group(1) == "3"
    record(Outcome(seen_line(proc), proc.returncode, f"{rows} row predicted, "
                   f"{skipped.group(1) if skipped else 'NO'} skipped with a reason each", ok))


@row("input-predict-symlinks", "`steervis predict` on a folder whose class folders are symlinks")
def test_predict_follows_symlinked_class_folders(ws, record):
    folder = ws.root / "linked"
    if not folder.exists():
        folder.mkdir()
        for cls in ("circle", "square"):
            (folder / cls).symlink_to(ws.toy() / "sketch" / cls, target_is_directory=True)
    out = ws.root / "p-linked.csv"
    proc = ws.steervis("predict", "--adapter", ws.adapter, folder, "--out", out)
    rows = len(pd.read_csv(out)) if out.exists() else 0
    record(Outcome(seen_line(proc), proc.returncode, f"{rows} of 8 images predicted (symlinks followed)",
                   proc.returncode == 0 and rows == 8))


@row("input-offline-captioner", "describe with a hub captioner while offline")
def test_an_unavailable_captioner_is_one_sentence_of_advice(ws, record):
    proc = ws.steervis("describe", "--data", ws.toy(), "--quiet", "--set", "matcher=tiny-clip",
                       "--set", "captioner=nobody/no-such-captioner")
    outcome = refused(proc)
    if "embedded none" in proc.stderr:
        outcome.also(False, "", ", BUT THE ADVICE IS GARBLED")
    record(outcome)
