"""``steervis study summary``: the small record a results table is written from.

A table in ``docs/RESULTS.md`` is never typed: its run leaves a ``summary.json`` under ``docs/results/NAME/``
(committed), and :mod:`steervis.studies.results` renders the table from it. A summary holds what a reader
needs to trust a number and nothing else:

* ``rows``: ``{row: {column: value}}``; an accuracy is ``[value, low, high]`` (a fraction with its 95 %
  interval), any other cell a plain number or string;
* ``command``: what produced it; ``commit``: the code it ran at (every part's commit when they differ);
  ``config_hash``: the run's settings; ``split``: what it was measured on.

From an ``evaluate`` run folder (``metrics.json``), JSON a ``steervis bench``/``study`` command printed, a
folder of such JSON files (one row each), or a table a command wrote (CSV, JSON lines):

    steervis study summary --set source=runs/quick --set table=demo --set command="steervis demo"
    steervis study summary --set source=bench.json --set table=describe-throughput \\
        --set command="steervis bench describe --out bench.json"

``merge``: the source's rows join the table's committed summary (a row of the same name is replaced, the
others kept with their commits), for a table whose earlier runs' folders are gone: a new diagnosis run, or
a missing cell measured later.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from steervis.atomic import write_text
from steervis.errors import SteervisError
from steervis.identity import source_commit

FORMAT = 1  # bump when a field's meaning changes; results refuses summaries of another format
DOCS = Path("docs")


def summary_path(table: str, docs: str | Path = DOCS) -> Path:
    return Path(docs) / "results" / table / "summary.json"


def from_run(run: Path) -> dict[str, Any]:
    """The accuracy table of an ``evaluate`` run folder: per row, each held-out split and the mean."""
    metrics = json.loads((run / "metrics.json").read_text())
    commits = sorted({info.get("commit") or "unknown" for info in metrics["runs"].values()})
    compute: dict[str, float] = {}
    for key, info in metrics["runs"].items():  # "split/method" → that part's fit and predict seconds
        method = key.split("/", 1)[1]
        compute[method] = compute.get(method, 0.0) + info.get("fit_s", 0) + info.get("predict_s", 0)
    return {
        "rows": metrics["accuracy_ci95"],  # as the run rounded them: one rounding to the printed digit
        "split": _split(metrics),
        "config_hash": _config_hash(metrics["config"]),
        "commit": commits[0] if len(commits) == 1 else commits,
        "published_at": (metrics.get("code") or {}).get("commit"),
        "compute_s": {m: round(s, 1) for m, s in compute.items()},
    }


def _split(metrics: dict[str, Any]) -> str:
    held_out = metrics.get("config", {}).get("held_out") or []
    folds = f"{', '.join(held_out)} held out in turn" if held_out else "each domain held out in turn"
    return f"{metrics['protocol']}, {folds}, {metrics['n_images']} images, {len(metrics['classes'])} classes"


def from_file(path: Path, rows_key: str = "") -> dict[str, Any]:
    """A table a command wrote: JSON a ``bench``/``study`` printed (its ``rows``, else one row per key), a CSV
    (rows by its first column, as ``data build pool``'s ``counts.csv``) or JSON lines (rows by each line's
    first key, as ``scripts/headline``'s step log, whose lines name their commit)."""
    if path.suffix == ".csv":
        import pandas as pd

        frame = pd.read_csv(path)
        rows = {str(k): {c: _plain(v) for c, v in row.items()}
                for k, row in frame.set_index(frame.columns[0]).iterrows()}
        return {"rows": rows, "row_title": str(frame.columns[0]), "commit": source_commit()}
    if path.suffix == ".jsonl":
        return from_records([json.loads(line) for line in path.read_text().splitlines() if line.strip()])
    data = json.loads(path.read_text())
    if rows_key:  # the rows sit under one field, as scripts/gpu-check's "parts"
        if not isinstance(data, dict) or not isinstance(data.get(rows_key), dict):
            raise SteervisError(f"{path} has no table under {rows_key!r}.")
        rows = {name: _flat(row) for name, row in data[rows_key].items()}
        return {"rows": rows, "row_title": rows_key.rstrip("s"), "commit": source_commit()}
    if isinstance(data, list):  # one record per row, as `bench zoo-load` prints
        return from_records(data)
    if "rows" in data:  # a study's own table; one over run folders names their title, split and commits
        given = {k: data[k] for k in ("row_title", "split") if k in data}
        return {"rows": data["rows"], **given, "config_hash": _config_hash(data.get("options", {})),
                "commit": data.get("commit") or source_commit()}
    if data and all(isinstance(v, dict) for v in data.values()):  # {row: {column: ...}}, as counts.json
        return {"rows": {k: _flat(v) for k, v in data.items()}, "commit": source_commit()}
    rows = {k: {"value": v} for k, v in data.items() if not isinstance(v, (dict, list))}
    return {"rows": rows, "row_title": "quantity", "commit": source_commit()}


def from_outputs(folder: Path, commit: str = "") -> dict[str, Any]:
    """One row per JSON file a command wrote into ``folder`` (named by the file's stem, fields flattened, a
    space in a field's name written ``_`` so a table block can name it), in name order; a file's own
    ``commit`` names its code, else ``commit``."""
    records = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        own = data.pop("commit", None)
        flat = _with_intervals({k.replace(" ", "_"): v for k, v in _flat(data).items()})
        records.append({"run": path.stem, "commit": own or commit or None, **flat})
    return from_records(records)


def from_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows keyed by each record's first field; a record's ``commit`` (a step log's) names its code."""
    key = next(iter(records[0])) if records else "row"
    commits = sorted({str(r.pop("commit", None) or source_commit() or "unknown") for r in records})
    rows = {str(r.pop(key)): r for r in records}
    return {"rows": rows, "row_title": key, "commit": commits[0] if len(commits) == 1 else commits}


def _with_intervals(flat: dict[str, Any]) -> dict[str, Any]:
    """``X.accuracy`` and its ``X.ci95``, or ``X`` and its ``X_ci95`` (COCO AP's), as one
    ``[value, low, high]`` column.

    >>> _with_intervals({"color.accuracy": 0.8, "color.ci95": [0.7, 0.9], "questions": 5})
    {'color.accuracy': [0.8, 0.7, 0.9], 'questions': 5}
    >>> _with_intervals({"ap": 0.1, "ap_ci95": [0.05, 0.2]})
    {'ap': [0.1, 0.05, 0.2]}
    """
    out = dict(flat)
    for key, value in flat.items():
        if not (key.endswith("ci95") and isinstance(value, list) and len(value) == 2):
            continue
        head = key.removesuffix("_ci95") if key.endswith("_ci95") else key.removesuffix("ci95") + "accuracy"
        if isinstance(flat.get(head), (int, float)):
            out[head] = [flat[head], *value]
            del out[key]
    return out


def _flat(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested fields as dotted columns: ``{"batch_1": {"ratio": 0.9}}`` → ``{"batch_1.ratio": 0.9}``."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def _merged(new: dict[str, Any], path: Path) -> dict[str, Any]:
    """``new``'s rows over the committed summary at ``path`` (same-named rows replaced), every commit named;
    the old summary's title, row title and split unless ``new`` gives its own."""
    if not path.is_file():
        raise SteervisError(f"merge=true adds rows to a committed summary, and {path} does not exist: "
                            "leave merge off to write it.")
    old = json.loads(path.read_text())
    if old.get("command") != new["command"]:
        raise SteervisError(f"{path} was written by {old.get('command')!r}, not {new['command']!r}: a "
                            "table holds one command's rows.")

    def commits(record: dict[str, Any]) -> list[str]:
        value = record.get("commit") or []
        return [value] if isinstance(value, str) else list(value)

    every = sorted(set(commits(old)) | set(commits(new)))
    out = {**old, **{k: v for k, v in new.items() if v or k not in old}}
    out["rows"] = {**old["rows"], **new["rows"]}
    out["commit"] = every[0] if len(every) == 1 else every
    return out


def _fraction(value: Any) -> Any:
    """A ``[value, low, high]`` interval in percent as fractions; anything else as it is."""
    if isinstance(value, list) and len(value) == 3 and all(isinstance(v, (int, float)) for v in value):
        return [round(v / 100, 4) for v in value]
    return value


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (JSON), whole floats as ints."""
    value = value.item() if hasattr(value, "item") else value
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _config_hash(config: Any) -> str:
    from steervis.config import config_hash

    return config_hash(config, 12)


def summary(source: str, table: str, command: str, title: str = "", docs: str = "docs",
            split: str = "", commit: str = "", rows: str = "", percent: bool = False,
            merge: bool = False) -> dict[str, Any]:
    """``steervis study summary``: write ``docs/results/TABLE/summary.json`` from a run folder or a JSON
    file, and return it. ``commit`` names the code a command's output came from when it ran from another
    checkout than this one (a run folder names its own); ``rows`` the JSON field holding the rows when they
    are not at the top; ``percent`` says the source's intervals are percentages (as the studies print them),
    stored as fractions like every summary's."""
    path = Path(source)
    if path.is_dir() and not (path / "metrics.json").is_file() and any(path.glob("*.json")):
        record = from_outputs(path, commit)  # a folder of one study's outputs, one row each
    elif path.is_dir():
        if not (path / "metrics.json").is_file():
            raise SteervisError(f"{path} has no metrics.json: give a finished `steervis evaluate` run "
                                "folder.")
        record = from_run(path)
    elif path.suffix in (".json", ".jsonl", ".csv") and path.is_file():
        record = from_file(path, rows)
    else:
        raise SteervisError(f"{source} is neither a run folder nor a .json, .jsonl or .csv file.")
    if not command.startswith("steervis ") and not command.startswith("make ") and "scripts/" not in command:
        raise SteervisError(f"command={command!r} must be the command that produced the result "
                            "(steervis …, make …, scripts/…).")
    if commit and not path.is_dir():
        record["commit"] = commit
    if percent:
        record["rows"] = {name: {k: _fraction(v) for k, v in row.items()}
                          for name, row in record["rows"].items()}
    out = {"format": FORMAT, "table": table, "title": title, "command": command, **record}
    if merge:
        out = _merged(out, summary_path(table, docs))
    if split:
        out["split"] = split
    write_text(summary_path(table, docs), json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    return out
