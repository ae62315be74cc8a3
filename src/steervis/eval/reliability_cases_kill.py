"""Rows of ``steervis bench reliability`` for two writers at once and for kill -9: describe, fit and evaluate
killed mid-run resume to what an uninterrupted run writes; two describes or evaluates on one cache share it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd

from steervis.eval.reliability import (
    FAST_FIT,
    Outcome,
    Workspace,
    case,
    evaluate_args,
    kill_at,
    resumed,
    seen_line,
)


# ---- concurrency
# ---------------------------------------------------------------------------------------------
@case("race-two-describes", "two `steervis describe` on one store at once", group="concurrency")
def _two_describes(ws: Workspace) -> Outcome:
    sub = ws.fresh("race")
    args = ["describe", "--data", sub.toy(), "--quiet", "--preset", "describe-tiny", "--set", "batch_size=1"]
    procs = [sub.start(*args) for _ in range(2)]
    outs = [p.communicate() for p in procs]
    counts = [re.search(r"(\d+) described, (\d+) cached", o[0]) for o in outs]
    described = [int(m.group(1)) for m in counts if m]
    ok = len(described) == 2 and sum(described) == 24 and all(p.returncode == 0 for p in procs)
    return Outcome(f"(stdout) {outs[0][0].strip().splitlines()[-2] if outs[0][0].strip() else ''}",
                   max(p.returncode for p in procs),
                   f"described {' + '.join(map(str, described))} = each of 24 images once" if ok
                   else f"DESCRIBED {described} (24 images)")


@case("race-two-evaluates", "two `steervis evaluate` adding image features at once", group="concurrency")
def _two_evaluates(ws: Workspace) -> Outcome:
    sub = ws.fresh("race-features")
    procs = [sub.start(*evaluate_args(sub, out=f"runs-{i}", methods="linear-probe")) for i in range(2)]
    outs = [p.communicate() for p in procs]
    from steervis.store import Store

    stores = [Store(d) for d in sorted((sub.home / "features").glob("*")) if d.is_dir()]
    rows = [len(s) for s in stores]
    ok = rows and all(n == 24 for n in rows)
    seen = seen_line(subprocess.CompletedProcess([], procs[0].returncode, *outs[0]))
    return Outcome(seen, max(p.returncode for p in procs), f"feature rows per store {rows}: none lost" if ok
                   else f"ROWS {rows} (24 images)")


# ---- kill -9 and rerun -------------------------------------------------------------------------------------
def _descriptions(ws: Workspace, out: Path) -> object:
    frame = pd.read_parquet(out / "descriptions.parquet")
    return frame[["sha256", "description"]].sort_values("sha256").reset_index(drop=True)


@case("kill-describe", "kill -9 `steervis describe` after its first stored batch", group="kill -9")
def _kill_describe(ws: Workspace) -> Outcome:
    def args(w: Workspace) -> list:
        return ["describe", "--data", w.toy(), "--quiet", "--preset", "describe-tiny",
                "--set", "batch_size=1", "--out", w.root / "described"]

    sub, clean = ws.fresh("kill-describe"), ws.fresh("kill-describe-clean")
    killed, rerun = kill_at(sub, args(sub), lambda: any((sub.home / "descriptions").glob("*/part-*.parquet")))
    clean.steervis(*args(clean))
    equal = rerun.returncode == 0 and _descriptions(sub, sub.root / "described").equals(
        _descriptions(clean, clean.root / "described"))
    return resumed(killed, rerun, equal, "descriptions")


@case("kill-fit", "kill -9 `steervis fit` while it describes its training images", group="kill -9")
def _kill_fit(ws: Workspace) -> Outcome:
    from safetensors.torch import load_file

    def args(w: Workspace) -> list:
        return ["fit", "--data", w.toy(), "--domains", "photo", "--out", w.root / "adapter-k", *FAST_FIT,
                "--describe-set", "batch_size=1"]

    sub, clean = ws.fresh("kill-fit"), ws.fresh("kill-fit-clean")
    killed, rerun = kill_at(sub, args(sub), lambda: any((sub.home / "descriptions").glob("*/part-*.parquet")))
    clean.steervis(*args(clean))
    weights = "adapter/adapter_model.safetensors"
    try:
        a, b = (load_file(str(sub.root / "adapter-k" / weights)),
                load_file(str(clean.root / "adapter-k" / weights)))
        equal = a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)
    except OSError:
        equal = False
    return resumed(killed, rerun, equal, "adapter weights")


@case("kill-evaluate", "kill -9 `steervis evaluate` after its first finished part", group="kill -9")
def _killevaluate_args(ws: Workspace) -> Outcome:
    def args(w: Workspace) -> list:
        return evaluate_args(w, "--set", "name=k", methods="zeroshot,linear-probe")

    def table(w: Workspace) -> object:
        frame = pd.read_parquet(w.root / "runs" / "k" / "predictions.parquet")
        frame["path"] = frame["path"].map(lambda p: "/".join(Path(p).parts[-3:]))
        return frame[["method", "split", "path", "pred", "confidence"]].sort_values(
            ["method", "split", "path"]).reset_index(drop=True)

    sub, clean = ws.fresh("kill-evaluate"), ws.fresh("kill-evaluate-clean")
    killed, rerun = kill_at(sub, args(sub), lambda: any((sub.root / "runs" / "k" / "parts").glob("part-*")))
    clean.steervis(*args(clean))
    try:
        equal = rerun.returncode == 0 and table(sub).equals(table(clean))
    except (OSError, ValueError):
        equal = False
    return resumed(killed, rerun, equal, "predictions")
