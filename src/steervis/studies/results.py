"""``steervis study results``: every table of ``docs/RESULTS.md`` written from its run's ``summary.json``.

RESULTS.md is prose around generated blocks. A block names its summary, and optionally which rows and
columns of it to show (in that order) and extra per-row columns:

    <!-- table: demo -->
    <!-- table: headline rows=zeroshot,linear-probe columns=mean extra=compute_s -->

Everything up to the matching ``<!-- /table -->`` is replaced by the rendered table and a provenance line
(command, commit, settings hash). ``--set check=true`` changes nothing and fails when a block differs or a
markdown table stands outside a block, which is what the test over RESULTS.md does: no number is typed by
hand.

    steervis study results                      # rewrite the tables of docs/RESULTS.md
    steervis study results --set check=true     # fail on any difference
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from steervis.atomic import write_text
from steervis.errors import SteervisError
from steervis.studies.summary import FORMAT, summary_path

BLOCK = re.compile(r"<!-- table: (?P<spec>[^>]*?) -->\n(?P<body>.*?)<!-- /table -->", re.S)
EXTRA = {"compute_s": "compute (s)"}  # per-row extras a summary may hold, and their column titles


def load_summary(table: str, docs: str | Path) -> dict[str, Any]:
    path = summary_path(table, docs)
    if not path.is_file():
        raise SteervisError(f"RESULTS names table {table!r} but {path} does not exist: write it with "
                            "`steervis study summary`.")
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT:
        raise SteervisError(f"{path} is summary format {data.get('format')}, this steervis reads {FORMAT}: "
                            "rewrite it with `steervis study summary`.")
    return data


def is_interval(value: Any) -> bool:
    """An accuracy with its 95 % interval: ``[value, low, high]``, fractions."""
    return (isinstance(value, list) and len(value) == 3
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value))


def cell(value: Any) -> str:
    """An accuracy ``[v, low, high]`` as ``v [low, high]`` in percent; other numbers as they are.

    >>> cell([0.5, 0.25, 0.75]), cell([0.0008, 0.0004, 0.0014])
    ('50.0 [25.0, 75.0]', '0.08 [0.04, 0.14]')
    """
    if is_interval(value):
        # below 1 % (a rare-name AP) one decimal would read 0.08 and 0.14 alike: two decimals there
        digits = 2 if 0 < 100 * max(abs(v) for v in value) < 1 else 1
        return "{0:.{d}f} [{1:.{d}f}, {2:.{d}f}]".format(*(100 * v for v in value), d=digits)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "—" if value is None else str(value)


def parse_spec(spec: str) -> tuple[str, dict[str, list[str]]]:
    name, *options = spec.split()
    picks = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or key not in ("rows", "columns", "extra"):
            raise SteervisError(f"table {name!r}: unknown option {option!r} (rows=, columns=, extra=).")
        picks[key] = value.split(",")
    return name, picks


def render(spec: str, docs: str | Path) -> str:
    """The markdown table and provenance line of one block."""
    name, picks = parse_spec(spec)
    data = load_summary(name, docs)
    rows = picks.get("rows") or list(data["rows"])
    columns = picks.get("columns") or list(dict.fromkeys(c for r in data["rows"].values() for c in r))
    if "mean" in columns:  # the mean reads last, after every split it averages
        columns = [c for c in columns if c != "mean"] + ["mean"]
    missing = [r for r in rows if r not in data["rows"]]
    if missing:
        raise SteervisError(f"table {name!r} has no row {missing[0]!r}; it has {', '.join(data['rows'])}.")
    extras = picks.get("extra", [])
    head = [data.get("row_title", "method"), *columns, *(EXTRA.get(e, e) for e in extras)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [cell(data["rows"][row].get(c)) for c in columns]
        cells += [cell(data.get(e, {}).get(row)) for e in extras]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + provenance(data) + "\n"


def provenance(data: dict[str, Any]) -> str:
    commits = data.get("commit")
    commits = commits if isinstance(commits, list) else [commits]
    short = ", ".join(str(c)[:7] + ("+dirty" if str(c).endswith("+dirty") else "") for c in commits)
    parts = [f"`{data['command']}`", f"commit {short}"]
    if data.get("config_hash"):
        parts.append(f"settings {data['config_hash']}")
    if data.get("split"):
        parts.append(data["split"])
    if any(is_interval(v) for r in data["rows"].values() for v in r.values()):
        parts.append("95 % bootstrap intervals")
    return "<sub>" + " · ".join(parts) + "</sub>"


def rewrite(text: str, docs: str | Path) -> str:
    return BLOCK.sub(lambda m: f"<!-- table: {m['spec']} -->\n{render(m['spec'], docs)}<!-- /table -->", text)


def loose_tables(text: str) -> list[str]:
    """Markdown table rows outside every generated block (typed by hand)."""
    outside = BLOCK.sub("", text)
    return [line for line in outside.splitlines() if line.startswith("|")]


def results(docs: str = "docs", check: bool = False) -> dict[str, Any]:
    """``steervis study results``: rewrite (or, with ``check``, verify) every table block of RESULTS.md."""
    path = Path(docs) / "RESULTS.md"
    text = path.read_text()
    new = rewrite(text, docs)
    loose = loose_tables(new)
    tables = [parse_spec(m["spec"])[0] for m in BLOCK.finditer(text)]
    stale = [parse_spec(m["spec"])[0] for m, n in zip(BLOCK.finditer(text), BLOCK.finditer(new), strict=True)
             if m.group(0) != n.group(0)]
    if check and (stale or loose):
        what = f"tables {', '.join(stale)} differ from their summaries" if stale else \
            f"a table is typed by hand ({loose[0][:60]})"
        raise SteervisError(f"{path}: {what}; run `steervis study results` (tables come from summaries).")
    if not check and new != text:
        write_text(path, new)
    return {"results": str(path), "tables": tables, "rewritten": [] if check else stale}
