"""The rows of ``steervis bench reliability`` : bad inputs, damaged caches, stale results, races, kill -9.

Each function performs one input in the :class:`~steervis.eval.reliability.Workspace` and returns its
:class:`~steervis.eval.reliability.Outcome`; ``@case`` registers it in ``CASES``. Add rows here or in a
module of your own that registers into the same ``CASES``.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from steervis.card import CARD_NAME, card_path
from steervis.eval.reliability import (
    CASES,
    FAST_FIT,
    Outcome,
    Workspace,
    case,
    evaluate_args,
    refused,
    seen_line,
    write_markdown,
)


# ---- bad inputs: one sentence, exit 2, nothing written
# ---------------------------------------------------------
def _set_case(name: str, value: str) -> None:
    @case(f"input-set-{name}", f"`steervis evaluate --set {value}`")
    def run(ws: Workspace) -> Outcome:
        out = ws.root / f"runs-{name}"
        return refused(ws.steervis(*evaluate_args(ws, "--set", value, out=out.name)), absent=out)


for _name, _value in [("float-for-int", "max_per_class=2.5"), ("list-for-int", "seed=[1,2]"),
                      ("int-for-list", "runs=5"), ("old-spelling", "method_options=5"),
                      ("int-for-section", "uda=5"),
                      ("unknown-describe-key", "describe.matchr=tiny-clip")]:
    _set_case(_name, _value)


@case("input-config-folder", "`steervis evaluate --config <a folder>`")
def _config_folder(ws: Workspace) -> Outcome:
    return refused(ws.steervis("evaluate", "--config", ws.root, "--print-config"))


@case("input-runs-empty", "`steervis evaluate --set runs=[]`")
def _runs_empty(ws: Workspace) -> Outcome:
    out = ws.root / "runs-empty"
    return refused(ws.steervis("evaluate", "--data", ws.toy(), "--set", "runs=[]", "--out", out), absent=out)


@case("input-evaluate-out-file", "`steervis evaluate --out <an existing file>`")
def _evaluate_out_file(ws: Workspace) -> Outcome:
    (ws.root / "a-file").write_text("keep me")
    return refused(ws.steervis(*evaluate_args(ws, out="a-file")))


@case("input-one-class-split", "held-out split whose training domains hold one class")
def _one_class_split(ws: Workspace) -> Outcome:
    data = ws.toy("one-class-train")
    for cls in ("square", "triangle"):
        shutil.rmtree(data / "photo" / cls, ignore_errors=True)
    cmd = ["evaluate", "--data", data, "--runs", "linear-probe", "--set", "held_out=[sketch]",
           "--out", ws.root / "runs-one"]
    return refused(ws.steervis(*cmd), absent=ws.root / "runs-one")


@case("input-case-classes", "classes `Circle` and `circle` (differ only by case)")
def _case_classes(ws: Workspace) -> Outcome:
    data = ws.toy("case-classes")
    for domain in ("photo", "sketch"):
        if (data / domain / "square").exists():
            (data / domain / "square").rename(data / domain / "Circle")
    proc = ws.steervis(*evaluate_args(ws, data=data, out="runs-case"))
    named = "'Circle'" in proc.stderr and "'circle'" in proc.stderr
    return Outcome(seen_line(proc), proc.returncode, "warning names both; kept as two classes" if named
                   else "NO WARNING NAMING BOTH")


@case("input-fit-one-class", "`steervis fit` on a folder with one class")
def _fit_one_class(ws: Workspace) -> Outcome:
    data = ws.toy("one-class")
    for domain in ("photo", "sketch"):
        for cls in ("square", "triangle"):
            shutil.rmtree(data / domain / cls, ignore_errors=True)
    out = ws.root / "adapter-one"
    return refused(ws.steervis("fit", "--data", data, "--out", out, *FAST_FIT), absent=out)


@case("input-fit-out-file", "`steervis fit --out <an existing file>`")
def _fit_out_file(ws: Workspace) -> Outcome:
    (ws.root / "a-file").write_text("keep me")
    proc = ws.steervis("fit", "--data", ws.toy(), "--out", ws.root / "a-file", *FAST_FIT)
    outcome = refused(proc)
    kept = (ws.root / "a-file").read_text() == "keep me"
    outcome.result += ", the file kept" if kept else ", THE FILE WAS LOST"
    return outcome


def _damaged_adapter(name: str, title: str, damage: Callable[[Path], None]) -> None:
    @case(f"input-adapter-{name}", f"`steervis predict --adapter` folder with {title}")
    def run(ws: Workspace) -> Outcome:
        folder = ws.root / f"adapter-{name}"
        if not folder.exists():
            shutil.copytree(ws.adapter, folder)
            damage(folder)
        out = ws.root / f"p-{name}.csv"
        proc = ws.steervis("predict", "--adapter", folder, ws.toy() / "sketch", "--out", out)
        return refused(proc, absent=out)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 3)])


_damaged_adapter("bad-card", f"a {CARD_NAME} that is not JSON",
                 lambda f: card_path(f).write_text("{not json"))
_damaged_adapter("empty-card", f"{CARD_NAME} `{{}}`", lambda f: card_path(f).write_text("{}"))
_damaged_adapter("no-adapter", "no adapter/ folder", lambda f: shutil.rmtree(f / "adapter"))
_damaged_adapter("truncated", "truncated adapter safetensors",
                 lambda f: _truncate(f / "adapter" / "adapter_model.safetensors"))


@case("input-predict-manifest", "`steervis predict` on a manifest with a non-image, a deleted file and "
      "`../../etc/passwd`")
def _predict_manifest(ws: Workspace) -> Outcome:
    data = ws.toy()
    (data / "notes.png").write_text("not an image")
    first = sorted((data / "sketch" / "circle").glob("*.png"))[0].relative_to(data)
    pd.DataFrame({"path": [str(first), "notes.png", "deleted.png", "../../etc/passwd"]}).to_csv(
        data / "list.csv", index=False)
    out = ws.root / "p-manifest.csv"
    proc = ws.steervis("predict", "--adapter", ws.adapter, data / "list.csv", "--out", out)
    rows = len(pd.read_csv(out)) if out.exists() else 0
    skipped = re.search(r"skipped (\d+)", proc.stdout)
    return Outcome(seen_line(proc), proc.returncode,
                   f"{rows} row predicted, {skipped.group(1) if skipped else 'NO'} skipped with a reason "
                   "each")


@case("input-predict-symlinks", "`steervis predict` on a folder whose class folders are symlinks")
def _predict_symlinks(ws: Workspace) -> Outcome:
    folder = ws.root / "linked"
    if not folder.exists():
        folder.mkdir()
        for cls in ("circle", "square"):
            (folder / cls).symlink_to(ws.toy() / "sketch" / cls, target_is_directory=True)
    out = ws.root / "p-linked.csv"
    proc = ws.steervis("predict", "--adapter", ws.adapter, folder, "--out", out)
    rows = len(pd.read_csv(out)) if out.exists() else 0
    return Outcome(seen_line(proc), proc.returncode, f"{rows} of 8 images predicted (symlinks followed)")


@case("input-offline-captioner", "describe with a hub captioner while offline")
def _offline_captioner(ws: Workspace) -> Outcome:
    proc = ws.steervis("describe", "--data", ws.toy(), "--quiet", "--set", "matcher=tiny-clip",
                       "--set", "captioner=nobody/no-such-captioner")
    outcome = refused(proc)
    if "embedded none" in proc.stderr:
        outcome.result += ", BUT THE ADVICE IS GARBLED"
    return outcome


# ---- stale results: a result belongs to its config and its bytes
# -----------------------------------------------
def _prediction_rows(ws: Workspace, name: str, *extra: str) -> tuple[object, int]:
    proc = ws.steervis(*evaluate_args(ws, "--set", f"name={name}", *extra))
    path = ws.root / "runs" / name / "predictions.parquet"
    return proc, len(pd.read_parquet(path)) if proc.returncode == 0 and path.exists() else -1


@case("stale-max-per-class", "same run name, `--set max_per_class=3`, then `=2`", group="stale result")
def _max_per_class(ws: Workspace) -> Outcome:
    _, three = _prediction_rows(ws, "same", "--set", "max_per_class=3")
    proc, two = _prediction_rows(ws, "same", "--set", "max_per_class=2")
    ok = (three, two) == (3 * 3 * 2, 2 * 3 * 2)
    return Outcome(seen_line(proc), proc.returncode, f"{three} then {two} predictions: " +
                   ("each table computed with its own setting" if ok else "STALE"))


@case("stale-edited-image", "an image edited after the manifest and the run were written",
      group="stale result")
def _edited_image(ws: Workspace) -> Outcome:
    data = ws.toy("edited")
    from steervis.data.manifest import write_manifest

    rows = [{"path": str(p.relative_to(data)), "domain": p.parts[-3], "class": p.parts[-2], "source": "toy",
             "licence": "CC0-1.0", "sha256": "0" * 64} for p in sorted(data.glob("*/*/*.png"))]
    write_manifest(data, rows)  # a manifest whose recorded hashes are all stale claims
    ws.steervis(*evaluate_args(ws, "--set", "name=edited", data=data))
    parts = ws.root / "runs" / "edited" / "parts"
    before = set(parts.glob("*.parquet"))
    image = sorted((data / "sketch" / "circle").glob("*.png"))[0]
    shutil.copy(sorted((data / "sketch" / "square").glob("*.png"))[0], image)
    proc = ws.steervis(*evaluate_args(ws, "--set", "name=edited", data=data))
    new = set(parts.glob("*.parquet")) - before
    all_new = len(new) == len(before)
    verdict = (f"{len(new)} of {len(before)} splits recomputed (both hold the image)" if all_new
               else f"ONLY {len(new)} of {len(before)} RECOMPUTED")
    return Outcome(seen_line(proc), proc.returncode, verdict)


# ---- damaged caches: set aside, recomputed, said in one line
# ----------------------------------------------------
def _damaged_cache(name: str, title: str, pattern: str, first: Callable[[Workspace], list],
                   again=None) -> None:
    @case(f"cache-{name}", title, group="damaged cache")
    def run(ws: Workspace) -> Outcome:
        sub = ws.fresh(f"cache-{name}")
        args = first(sub)
        sub.steervis(*args)
        files = sorted(sub.root.glob(pattern))
        if not files:
            return Outcome("", None, f"NO FILE MATCHED {pattern}")
        _truncate(files[0])
        proc = sub.steervis(*(again(sub) if again else args))
        aside = files[0].with_name(files[0].name + ".corrupt").exists()
        healed = aside and proc.returncode == 0
        return Outcome(seen_line(proc), proc.returncode,
                       "set aside as *.corrupt, recomputed" if healed else "NOT HEALED")


_damaged_cache("description-part", "truncated description store part (`describe` again)",
               "home/descriptions/*/part-*.parquet",
               lambda ws: ["describe", "--data", ws.toy(), "--quiet", "--preset", "describe-tiny"])
_damaged_cache("feature-part", "truncated image-feature part (`evaluate` into a new run folder)",
               "home/features/*/part-*.parquet", lambda ws: evaluate_args(ws, methods="linear-probe"),
               lambda ws: evaluate_args(ws, methods="linear-probe", out="runs-again"))
_damaged_cache("run-part", "truncated evaluate run part (`evaluate` again)", "runs/*/parts/part-*.parquet",
               lambda ws: evaluate_args(ws))
_damaged_cache("hash-cache", "overwritten file-hash cache (`describe` again)", "home/hashes/files.sqlite",
               lambda ws: ["describe", "--data", ws.toy(), "--quiet", "--preset", "describe-tiny"])




# The rows of other modules register themselves on import: datasets and run names, CLI values, outputs and
# disks, the pool and REACT, the trainer's checkpoint, steervis' LLaVA.
from steervis.eval import (  # noqa: E402, F401
    reliability_cases_data,
    reliability_cases_kill,
    reliability_cases_numbers,
    reliability_cases_outputs,
    reliability_cases_react,
    reliability_cases_safety_ckpt,
    reliability_cases_vlm,
)


# ---- the bench entry point ---------------------------------------------------------------------------
def bench_reliability(out: str = "docs/RELIABILITY.md", only: str = "", keep: bool = False) -> dict[str, Any]:
    """Run every registered case (or those whose name contains ``only``); write the table to ``out``."""
    start = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="steervis-reliability-"))
    ws = Workspace(root)
    rows = []
    for name in CASES.names():
        if only and only not in name:
            continue
        entry = CASES.get(name)
        t0 = time.perf_counter()
        try:
            outcome = entry.run(ws)
        except Exception as err:  # a broken case is a row that says so, not a lost table
            outcome = Outcome(f"case failed: {type(err).__name__}: {err}"[:300], None, "CASE ERROR")
        outcome.seen = outcome.seen.replace(str(root), "<tmp>")  # the same table on every machine
        print(f"[{time.perf_counter() - t0:5.1f} s] {name}: {outcome.code} {outcome.result}", file=sys.stderr,
              flush=True)
        rows.append((name, entry, outcome))
    path = write_markdown(rows, Path(out), time.perf_counter() - start)
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return {"out": str(path), "rows": [{"name": n, "input": c.title, "seen": o.seen, "exit": o.code,
                                        "result": o.result} for n, c, o in rows],
            "seconds": round(time.perf_counter() - start, 1)}
