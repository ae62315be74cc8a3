"""Finished run folders under the runs root, and their files, never anything outside it.

A run folder is finished when it holds ``report.html`` (``steervis evaluate`` writes it last, with the
results). Every path a request names is resolved (links followed, ``..`` collapsed) and must still lie under
the resolved root; the page shows a report in a sandboxed iframe, and the server sends it with a ``sandbox``
content-security policy too, so a report's scripts never run with the page's rights.
"""

from __future__ import annotations

from pathlib import Path

from steervis.serve.problems import RequestError

REPORT = "report.html"
DEPTH = 3  # runs/<name>, runs/<out>/<name> and one level more: where evaluate and scripts put run folders


def finished_runs(root: str | Path) -> list[dict[str, str]]:
    """Run folders under ``root`` holding a report, newest first: ``{"run", "url", "modified"}``."""
    import datetime

    base = Path(root).expanduser().resolve()
    if not base.is_dir():
        return []
    found = []
    for depth in range(1, DEPTH + 1):
        for report in base.glob("/".join(["*"] * depth) + "/" + REPORT):
            folder = report.resolve().parent
            if not folder.is_relative_to(base):  # a link that leads out of the root is not offered
                continue
            stamp, run = report.stat().st_mtime, report.parent.relative_to(base).as_posix()
            when = datetime.datetime.fromtimestamp(stamp).isoformat(" ", "minutes")
            found.append((stamp, {"run": run, "url": report_url(run), "modified": when}))
    return [row for _, row in sorted(found, key=lambda pair: -pair[0])]


def report_url(run: str) -> str:
    return f"/runs/{run}/{REPORT}"


def inside(root: str | Path, relative: str) -> Path:
    """``root / relative`` resolved; a path outside the root is a 403, a missing one a 404."""
    base = Path(root).expanduser().resolve()
    if "\x00" in relative or Path(relative).is_absolute():
        raise RequestError("Run folders are named relative to the runs root.", 403)
    path = (base / relative).resolve()
    if not path.is_relative_to(base):
        raise RequestError(f"{relative} is outside the runs root {base}: only run folders under it open.",
                           403)
    if not path.exists():
        raise RequestError(f"{relative} does not exist under the runs root {base}.", 404)
    return path


def run_report(root: str | Path, run: str) -> str:
    """The report URL of the run folder ``run`` (checked: under the root, finished)."""
    folder = inside(root, run)
    if not folder.is_dir():
        raise RequestError(f"{run} is a file, not a run folder.", 400)
    if not (folder / REPORT).is_file():
        raise RequestError(f"{run} has no {REPORT} yet: the run has not finished.", 404)
    return report_url(folder.relative_to(Path(root).expanduser().resolve()).as_posix())
