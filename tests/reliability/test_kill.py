"""Two writers at once and kill -9: describe, fit and evaluate killed mid-run resume to what an uninterrupted
run writes; two describes or evaluates on one cache share it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from workspace import (
    DESCRIBE_TINY,
    FAST_FIT,
    Outcome,
    Workspace,
    evaluate_args,
    kill_at,
    resumed,
    row,
    same_tensors,
    seen_line,
)

pytestmark = pytest.mark.slow

SMALL = 2  # images per class and domain: the kills and races need a few batches, not many
IMAGES = 2 * 3 * SMALL  # 2 domains, 3 classes


@row("race-two-describes", "two `steervis describe` on one store at once", group="concurrency")
def test_two_describes_share_one_store(ws, record):
    sub = ws.fresh("race")
    args = ["describe", "--data", sub.toy(per_class=SMALL), *DESCRIBE_TINY, "--set", "batch_size=1"]
    procs = [sub.start(*args) for _ in range(2)]
    outs = [p.communicate() for p in procs]
    counts = [re.search(r"(\d+) described, (\d+) cached", o[0]) for o in outs]
    described = [int(m.group(1)) for m in counts if m]
    ok = len(described) == 2 and sum(described) == IMAGES and all(p.returncode == 0 for p in procs)
    record(Outcome(f"(stdout) {outs[0][0].strip().splitlines()[-2] if outs[0][0].strip() else ''}",
                   max(p.returncode for p in procs),
                   f"described {' + '.join(map(str, described))} = each of {IMAGES} images once" if ok
                   else f"DESCRIBED {described} ({IMAGES} images)", ok))


@row("race-two-evaluates", "two `steervis evaluate` adding image features at once", group="concurrency")
def test_two_evaluates_lose_no_feature_row(ws, record):
    from steervis.store import Store

    sub = ws.fresh("race-features")
    data = sub.toy(per_class=SMALL)
    procs = [sub.start(*evaluate_args(sub, data=data, out=f"runs-{i}", methods="linear-probe"))
             for i in range(2)]
    outs = [p.communicate() for p in procs]
    rows = [len(Store(d)) for d in sorted((sub.home / "features").glob("*")) if d.is_dir()]
    ok = bool(rows) and all(n == IMAGES for n in rows) and all(p.returncode == 0 for p in procs)
    seen = seen_line(subprocess.CompletedProcess([], procs[0].returncode, *outs[0]))
    record(Outcome(seen, max(p.returncode for p in procs), f"feature rows per store {rows}: none lost" if ok
                   else f"ROWS {rows} ({IMAGES} images)", ok))


def _descriptions(out: Path) -> object:
    frame = pd.read_parquet(out / "descriptions.parquet")
    return frame[["sha256", "description"]].sort_values("sha256").reset_index(drop=True)


@row("kill-describe", "kill -9 `steervis describe` after its first stored batch", group="kill -9")
def test_a_killed_describe_resumes(ws, record):
    def args(w: Workspace) -> list:
        return ["describe", "--data", w.toy(per_class=SMALL), *DESCRIBE_TINY, "--set", "batch_size=1",
                "--out", w.root / "described"]

    sub, clean = ws.fresh("kill-describe"), ws.fresh("kill-describe-clean")
    killed, rerun = kill_at(sub, args(sub), lambda: any((sub.home / "descriptions").glob("*/part-*.parquet")))
    clean.steervis(*args(clean))
    equal = rerun.returncode == 0 and _descriptions(sub.root / "described").equals(
        _descriptions(clean.root / "described"))
    record(resumed(killed, rerun, equal, "descriptions"))


@row("kill-fit", "kill -9 `steervis fit` while it describes its training images", group="kill -9")
def test_a_fit_killed_while_describing_resumes(ws, record):
    def args(w: Workspace) -> list:
        return ["fit", "--data", w.toy(per_class=SMALL), "--domains", "photo", "--out", w.root / "adapter-k",
                *FAST_FIT, "--describe-set", "batch_size=1"]

    sub, clean = ws.fresh("kill-fit"), ws.fresh("kill-fit-clean")
    killed, rerun = kill_at(sub, args(sub), lambda: any((sub.home / "descriptions").glob("*/part-*.parquet")))
    clean.steervis(*args(clean))
    equal = rerun.returncode == 0 and same_tensors(sub.root / "adapter-k" / "adapter",
                                                   clean.root / "adapter-k" / "adapter")
    record(resumed(killed, rerun, equal, "adapter weights"))


@row("kill-evaluate", "kill -9 `steervis evaluate` after its first finished part", group="kill -9")
def test_a_killed_evaluate_resumes(ws, record):
    def args(w: Workspace) -> list:
        data = w.toy(per_class=SMALL)
        return evaluate_args(w, "--set", "name=k", data=data, methods="zeroshot,linear-probe")

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
    record(resumed(killed, rerun, equal, "predictions"))
