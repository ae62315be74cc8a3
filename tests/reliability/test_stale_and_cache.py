"""A result belongs to its config and its bytes (stale results are recomputed), and a damaged cache file is
set aside, recomputed and said in one line."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pandas as pd
import pytest
from workspace import DESCRIBE_TINY, Outcome, Workspace, evaluate_args, row, seen_line, truncate

pytestmark = pytest.mark.slow


def _prediction_rows(ws: Workspace, name: str, *extra: str) -> tuple[object, int]:
    proc = ws.steervis(*evaluate_args(ws, "--set", f"name={name}", *extra))
    path = ws.root / "runs" / name / "predictions.parquet"
    return proc, len(pd.read_parquet(path)) if proc.returncode == 0 and path.exists() else -1


@row("stale-max-per-class", "same run name, `--set max_per_class=3`, then `=2`", group="stale result")
def test_a_run_name_reused_with_another_setting_is_recomputed(ws, record):
    _, three = _prediction_rows(ws, "same", "--set", "max_per_class=3")
    proc, two = _prediction_rows(ws, "same", "--set", "max_per_class=2")
    ok = (three, two) == (3 * 3 * 2, 2 * 3 * 2)
    record(Outcome(seen_line(proc), proc.returncode, f"{three} then {two} predictions: "
                   + ("each table computed with its own setting" if ok else "STALE"), ok))


@row("stale-edited-image", "an image edited after the manifest and the run were written",
     group="stale result")
def test_an_edited_image_recomputes_every_split_holding_it(ws, record):
    from steervis.data.manifest import write_manifest

    data = ws.toy("edited")
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
    all_new = proc.returncode == 0 and len(before) == 2 and len(new) == len(before)
    record(Outcome(seen_line(proc), proc.returncode, f"{len(new)} of {len(before)} splits recomputed (both "
                   "hold the image)" if all_new else f"ONLY {len(new)} of {len(before)} RECOMPUTED", all_new))


# Each cache row fills a fresh cache first: 2 images per class and domain are enough to damage a part.
def _describe(ws: Workspace) -> list:
    return ["describe", "--data", ws.toy(per_class=2), *DESCRIBE_TINY]


def _evaluate(ws: Workspace, methods: str = "zeroshot", out: str = "runs") -> list:
    return evaluate_args(ws, data=ws.toy(per_class=2), methods=methods, out=out)


CACHES: list[tuple[str, str, str, Callable, Callable | None]] = [
    ("description-part", "truncated description store part (`describe` again)",
     "home/descriptions/*/part-*.parquet", _describe, None),
    ("feature-part", "truncated image-feature part (`evaluate` into a new run folder)",
     "home/features/*/part-*.parquet", lambda ws: _evaluate(ws, "linear-probe"),
     lambda ws: _evaluate(ws, "linear-probe", "runs-again")),
    ("run-part", "truncated evaluate run part (`evaluate` again)", "runs/*/parts/part-*.parquet",
     _evaluate, None),
    ("hash-cache", "overwritten file-hash cache (`describe` again)", "home/hashes/files.sqlite", _describe,
     None),
]


@pytest.mark.parametrize("name, pattern, first, again", [
    pytest.param(n, p, f, a, id=n, marks=row(f"cache-{n}", t, group="damaged cache"))
    for n, t, p, f, a in CACHES])
def test_a_damaged_cache_file_is_set_aside_and_recomputed(ws, record, name, pattern, first, again):
    sub = ws.fresh(f"cache-{name}")
    sub.steervis(*first(sub))
    files = sorted(sub.root.glob(pattern))
    assert files, f"no file matched {pattern}"
    truncate(files[0])
    proc = sub.steervis(*(again or first)(sub))
    healed = files[0].with_name(files[0].name + ".corrupt").exists() and proc.returncode == 0
    record(Outcome(seen_line(proc), proc.returncode,
                   "set aside as *.corrupt, recomputed" if healed else "NOT HEALED", healed))
