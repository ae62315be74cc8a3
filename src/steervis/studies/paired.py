"""Is one method better than another on the same images? Paired differences from a finished run.

For two methods of one ``steervis evaluate`` run folder, per held-out domain: accuracy of ``a`` minus ``b`` on
the same images with a paired bootstrap interval; and the same for the DG mean (the mean over domains of the
per-domain differences, every domain resampled on its own, as the mean's accuracy interval is).

Images are paired by content (their sha256 in ``predictions.parquet``), not by path: two runs may read the
same path from folders holding other bytes, and then no difference between them is a paired one.

>>> import pandas as pd
>>> preds = pd.DataFrame({"method": ["a"] * 4 + ["b"] * 4, "domain": ["x", "x", "y", "y"] * 2,
...                       "sha256": ["1", "2", "3", "4"] * 2, "class": ["cat"] * 8,
...                       "pred": ["cat", "cat", "cat", "dog", "cat", "dog", "dog", "dog"]})
>>> paired_differences(preds, "a", "b")["mean"][0]  # x: +50 points, y: +50 points
50.0
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from steervis.errors import SteervisError
from steervis.stats import mean_of_groups_ci, paired_difference_ci

KEY = ["domain", "sha256", "copy"]  # one test image of one held-out domain, by content


def points(values: tuple[float, float, float]) -> list[float]:
    """A ``(difference, low, high)`` fraction triple in percentage points, one decimal."""
    return [round(100 * v, 1) for v in values]


def paired_differences(preds: pd.DataFrame, a: str, b: str) -> dict[str, Any]:
    """``a`` minus ``b`` per domain and for the mean over domains, each ``[difference, low, high]`` in
    points."""
    both = _pair(_side(preds, a), _side(preds, b), a, b)
    domains = {str(d): group for d, group in both.groupby("domain", sort=True)}
    diffs = {d: (g["right_a"] - g["right_b"]).to_numpy() for d, g in domains.items()}
    return {
        "a": a, "b": b,
        "domains": {d: points(paired_difference_ci(g["right_a"].to_numpy(), g["right_b"].to_numpy()))
                    for d, g in domains.items()},
        "mean": points(mean_of_groups_ci(list(diffs.values()))),
        "images": {d: int(len(v)) for d, v in diffs.items()},
    }


def _pair(first: pd.DataFrame, second: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Two sides' rows joined image by image (columns ``*_a``, ``*_b``); refused unless they saw the same
    images with the same labels."""
    _check_same_images(first, second, a, b)
    both = first.merge(second, on=KEY, suffixes=("_a", "_b"), validate="one_to_one")
    # The bootstrap's draws follow the images in a's path order (as before images were paired by content), not
    # the row order, so a paired interval over one run folder is reproduced exactly.
    order = ["domain", "path_a", "copy"] if "path_a" in both else KEY
    both = both.sort_values(order, ignore_index=True)
    relabelled = int((both["class_a"] != both["class_b"]).sum())
    if relabelled:
        raise SteervisError(f"{a} and {b} were tested on the same images, but {relabelled} of them are "
                            "labelled differently in the two: a paired difference needs the same labels too.")
    return both


def _side(preds: pd.DataFrame, name: str) -> pd.DataFrame:
    """One method's rows keyed by image content: ``domain``, ``sha256``, ``copy``, ``class``, ``pred``,
    ``right``."""
    chosen = preds[preds["method"] == name]
    if chosen.empty:
        raise SteervisError(f"No predictions of {name!r}: the run has "
                            f"{', '.join(sorted(preds['method'].unique()))}.")
    chosen = chosen.assign(right=(chosen["pred"] == chosen["class"]).astype(float))
    # The same bytes twice in one domain (a copied file) are two test images: numbered in class order, they
    # pair with the other run's copies whatever their paths.
    chosen = chosen.sort_values(["domain", "sha256", "class"], kind="stable")
    chosen = chosen.assign(copy=chosen.groupby(["domain", "sha256"]).cumcount())
    return chosen[[*KEY, *(["path"] if "path" in chosen else []), "class", "pred", "right"]]


def _check_same_images(first: pd.DataFrame, second: pd.DataFrame, a: str, b: str) -> None:
    """Refuse sides tested on different images (by content, per domain): their difference is not a paired
    one."""
    ones, others = set(first[KEY].itertuples(index=False)), set(second[KEY].itertuples(index=False))
    only_a, only_b = len(ones - others), len(others - ones)
    if only_a or only_b:
        raise SteervisError(f"{a} and {b} were not tested on the same images: {only_a} of {a}'s {len(ones)} "
                            f"test images are not among {b}'s and {only_b} of {b}'s {len(others)} not among "
                            f"{a}'s (compared by content, per domain); a paired difference needs the same "
                            "held-out images, so run both on the same data.")


def run_predictions(run: str, columns: list[str] | None = None) -> pd.DataFrame:
    """The predictions of a finished ``steervis evaluate`` run folder (what the ``--set run=DIR`` studies
    read)."""
    from steervis.outputs import require_finished

    path = Path(run) / "predictions.parquet"
    if run and Path(run).is_dir():
        require_finished(run)  # a run killed before it published: its folder holds parts, not predictions
    if not run or not path.is_file():
        raise SteervisError(f"--set run=DIR must name a finished `steervis evaluate` run folder ({path} is "
                            "missing).")
    if columns is not None and "sha256" in columns:
        import pyarrow.parquet as pq

        if "sha256" not in pq.read_schema(path).names:
            raise SteervisError(f"{path} was written before runs recorded each image's sha256, so its images "
                                "cannot be paired by content: rerun the same `steervis evaluate` command "
                                "(its finished parts are reused) to rewrite it.")
    frame = pd.read_parquet(path, columns=columns)
    if columns is not None and "sha256" in columns and frame["sha256"].isna().any():
        raise SteervisError(f"{path} lacks the sha256 of {int(frame['sha256'].isna().sum())} predictions: "
                            "rerun the same `steervis evaluate` command to rewrite it.")
    return frame


def study_paired(run: str = "", a: str = "", b: str = "", against: str = "",
                 names: str = "") -> dict[str, Any]:
    """``steervis study paired --set run=runs/full --set a=METHOD --set b=OTHER[,OTHER...]``: ``a`` minus each
    ``b`` on the same images of a finished run, per held-out domain and for the DG mean, with 95 % intervals.
    ``run=DIR,DIR...`` pairs methods of several runs on the same data (an ablation run against the full
    one). ``against=DIR`` compares every method the two runs share (``a=M,M...`` picks some), one table row
    per method and domain: each run's accuracy, ``against`` minus ``run`` and how many predictions changed
    (``names=A,B`` titles the two runs' columns; their folder names by default)."""
    if against:
        return compare_runs(run, against, a, names)
    others = [o.strip() for o in b.split(",") if o.strip()] if isinstance(b, str) else [str(o) for o in b]
    if not a or not others:
        raise SteervisError("Name the two sides: --set a=METHOD --set b=OTHER (several OTHERs "
                            "comma-separated).")
    preds = runs_predictions(run, columns=["method", "domain", "sha256", "class", "pred"])
    return {"run": str(run), "pairs": [paired_differences(preds, a, other) for other in others],
            "bootstrap": "paired; the mean resamples each domain's images on their own", "level": 0.95}


def runs_predictions(runs: str, columns: list[str] | None = None) -> pd.DataFrame:
    """The predictions of one or more run folders (``DIR,DIR...``); a method may come from only one of
    them."""
    folders = [r.strip() for r in str(runs).split(",") if r.strip()] or [""]
    frames = [run_predictions(folder, columns) for folder in folders]
    seen: dict[str, str] = {}
    for folder, frame in zip(folders, frames, strict=True):
        for method in frame["method"].unique():
            if method in seen:
                raise SteervisError(f"{method!r} is in both {seen[method]} and {folder}: name one run of it.")
            seen[method] = folder
    return pd.concat(frames, ignore_index=True)


def compare_runs(run: str, against: str, methods: str = "", names: str = "") -> dict[str, Any]:
    """The same rows run twice (float32 and bfloat16, two seeds, two commits): per method and held-out
    domain, and for the DG mean, both accuracies, ``against`` minus ``run`` (paired), the predictions that
    changed and the images compared; accuracies and differences are ``[value, low, high]`` fractions."""
    columns = ["method", "domain", "sha256", "class", "pred"]
    first, second = run_predictions(run, columns), run_predictions(against, columns)
    titles = [t.strip() for t in names.split(",")] if names else [Path(run).name, Path(against).name]
    if len(titles) != 2 or titles[0] == titles[1] or not all(titles):
        raise SteervisError(f"names={names!r} must be two different titles, A,B (one per run).")
    shared = [m for m in first["method"].unique() if m in set(second["method"])]
    chosen = [m.strip() for m in methods.split(",") if m.strip()] or shared
    if not shared or any(m not in shared for m in chosen):
        raise SteervisError(f"{run} and {against} share the methods {', '.join(shared) or 'none'}: "
                            "compare those.")
    rows: dict[str, dict[str, Any]] = {}
    for method in chosen:
        sides = [_side(frame, method) for frame in (first, second)]
        both = _pair(*sides, f"{method} in {run}", f"{method} in {against}")
        groups = {str(d): g for d, g in both.groupby("domain", sort=True)}
        for domain, group in groups.items():
            rows[f"{method}/{domain}"] = _compared(titles, [group])
        rows[f"{method}/mean"] = _compared(titles, list(groups.values()))
    return {"run": str(run), "against": str(against), "rows": rows, "row_title": "method/held out",
            "commit": _commits([run, against], chosen),
            "split": f"{max(r['images'] for r in rows.values())} test images a method, paired by content",
            "bootstrap": "paired; the mean resamples each domain's images on their own", "level": 0.95}


def _commits(runs: list[str], methods: list[str]) -> list[str]:
    """The commits that computed these methods' predictions in the run folders (from their metrics.json)."""
    found: set[str] = set()
    for run in runs:
        path = Path(run) / "metrics.json"
        if not path.is_file():  # predictions without their metrics: what computed them is unknown
            found.add("unknown")
            continue
        parts = json.loads(path.read_text()).get("runs", {})
        found |= {str(info.get("commit") or "unknown") for key, info in parts.items()
                  if key.split("/", 1)[-1] in methods}
    return sorted(found)


def _compared(titles: list[str], groups: list[pd.DataFrame]) -> dict[str, Any]:
    """One row: both accuracies, the paired difference (second minus first), changed predictions, images;
    over several domains, the mean of their accuracies and differences."""
    def rounded(triple: tuple[float, float, float]) -> list[float]:
        return [round(v, 6) for v in triple]  # as metrics.json rounds: one rounding to the printed digit

    return {
        titles[0]: rounded(mean_of_groups_ci([g["right_a"].to_numpy() for g in groups])),
        titles[1]: rounded(mean_of_groups_ci([g["right_b"].to_numpy() for g in groups])),
        "difference": rounded(mean_of_groups_ci([(g["right_b"] - g["right_a"]).to_numpy() for g in groups])),
        "changed": int(sum((g["pred_a"] != g["pred_b"]).sum() for g in groups)),
        "images": int(sum(len(g) for g in groups)),
    }
