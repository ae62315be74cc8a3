"""``steervis bench reliability``: every bad input and every kill -9 point, run for real, written to a table.

Each row is a :class:`Case` registered in ``CASES``: a function that performs the input in a throwaway
:class:`Workspace` (its own ``STEERVIS_HOME``, a synthetic dataset, tiny random models) by running the
``steervis`` CLI in subprocesses, and returns what the user saw (the first telling line of stderr), the exit
code, and what became of their data. A module adds its verbs' rows with ``CASES.register(name, Case(...))``.

    steervis bench reliability                   # all rows → docs/RELIABILITY.md (a few minutes, tiny models)
    steervis bench reliability --set only=kill   # rows whose name contains "kill"

The first rows and the bench entry point live in ``steervis.eval.reliability_cases``; the pool and REACT's
rows in ``reliability_cases_react``, steervis' LLaVA's in ``reliability_cases_vlm``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steervis.registry import Registry

CASES = Registry("reliability case")
# The CLI flags that make fit and predict run on tiny random models in seconds.
FAST_FIT = ["--preset", "decide-tiny", "--describe-preset", "describe-tiny", "--quiet"]
TINY_DESCRIBE = ["describe.matcher=tiny-clip", "describe.captioner=null"]
TINY_EVALUATE = [x for s in TINY_DESCRIBE for x in ("--set", s)]
GROUPS = ["bad input", "stale result", "damaged cache", "concurrency", "kill -9"]  # table order
ENTRY = "import sys; from steervis.cli import main; sys.exit(main())"
# Seconds a kill point may take to arrive before the row is reported as "finished before the kill point".
KILL_WAIT_S = 300
# steervis' own errors ("steervis: error: ...") and argparse's usage errors ("steervis caption: error: ...").
ERROR_LINE = re.compile(r"steervis( [\w-]+)*: error: ")


@dataclass
class Outcome:
    """One row's facts: what the user saw, the exit code, what became of their work."""

    seen: str
    code: int | None
    result: str


@dataclass(frozen=True)
class Case:
    """A row of the table: ``title`` is the input as a person would describe it; ``run`` performs it."""

    title: str
    run: Callable[[Workspace], Outcome]
    group: str = "bad input"


def case(name: str, title: str, group: str = "bad input") -> Callable:
    """Register the decorated ``fn(workspace) -> Outcome`` as a row of the table."""

    def add(fn: Callable[[Workspace], Outcome]) -> Callable:
        CASES.register(name, Case(title, fn, group), help=title)
        return fn

    return add


class Workspace:
    """A private STEERVIS_HOME, a root for datasets and runs, and the steervis CLI in subprocesses."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.home = self.root / "home"
        import steervis

        # The subprocesses run this very steervis (a worktree's src/ first), whatever the working directory.
        path = os.pathsep.join([str(Path(steervis.__file__).resolve().parents[1]),
                                os.environ.get("PYTHONPATH", "")])
        self.env = {**os.environ, "STEERVIS_HOME": str(self.home), "HF_HUB_OFFLINE": "1", "PYTHONPATH": path,
                    "TOKENIZERS_PARALLELISM": "false", "STEERVIS_TRACEBACK": ""}

    def fresh(self, name: str) -> Workspace:
        """Another workspace (its own cache) for an uninterrupted twin run."""
        return Workspace(self.root / name)

    def toy(self, name: str = "toy", **kw: Any) -> Path:
        from steervis.data.synthetic import make_toy_dataset

        path = self.root / name
        return path if path.exists() else make_toy_dataset(path, **{"per_class": 4, "size": 32, **kw})

    def argv(self, args: list[str]) -> list[str]:
        # The CLI as a user runs it, in another process: a program started, not a module imported from below.
        return [sys.executable, "-c", ENTRY, *map(str, args)]

    def steervis(self, *args: Any, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(list(args)), env=self.env, capture_output=True, text=True,
                              timeout=timeout, cwd=self.root)

    def start(self, *args: Any) -> subprocess.Popen:
        return subprocess.Popen(self.argv(list(args)), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.root)

    @functools.cached_property
    def adapter(self) -> Path:
        out = self.root / "adapter"
        done = self.steervis("fit", "--data", self.toy(), "--domains", "photo", "--out", out, *FAST_FIT)
        if done.returncode != 0:
            raise RuntimeError(f"fitting the reliability adapter failed: {done.stderr[-500:]}")
        return out


def seen_line(proc: Any) -> str:
    """The line a user notices: an error, else a traceback's last line, else the first warning, else stdout.
    """
    err = [ln.strip() for ln in re.split(r"[\r\n]", proc.stderr or "") if ln.strip()]
    for line in err:
        if line.startswith("steervis:") or ERROR_LINE.match(line):
            return line
    if any(line.startswith("Traceback") for line in err):
        return "Traceback … " + err[-1]
    for line in err:
        if line.startswith(("WARNING", "ERROR")):
            return line
    out = [ln.strip() for ln in (proc.stdout or "").splitlines() if ln.strip() and not ln.startswith("|")]
    return "(stdout) " + out[0] if out else "(nothing)"  # tables skipped: the line after says where it went


def refused(proc: Any, absent: Path | None = None) -> Outcome:
    """The verdict for a bad input: one sentence and exit 2, nothing half-written."""
    seen = seen_line(proc)
    ok = proc.returncode == 2 and bool(ERROR_LINE.match(seen)) and "Traceback" not in (proc.stderr or "")
    result = "one sentence, no traceback" if ok else "NOT A SENTENCE"
    if absent is not None:
        result += ", nothing written" if not absent.exists() else f", BUT {absent.name} WAS WRITTEN"
    return Outcome(seen, proc.returncode, result)


def kill_at(ws: Workspace, args: list[Any], point: Callable[[], bool], poll: float = 0.02,
            between: Callable[[], Any] | None = None) -> tuple[bool, subprocess.CompletedProcess]:
    """Start ``args``, SIGKILL it when ``point()`` turns true (checked every ``poll`` seconds), call
    ``between()`` to look at what the kill left, then rerun the same command to completion."""
    proc = ws.start(*args)
    deadline, killed = time.monotonic() + KILL_WAIT_S, False
    while proc.poll() is None and time.monotonic() < deadline:
        if point():
            os.kill(proc.pid, signal.SIGKILL)  # only the process this function started
            killed = True
            break
        time.sleep(poll)
    proc.communicate()
    if between is not None:
        between()
    return killed, ws.steervis(*args)


def resumed(killed: bool, rerun: Any, equal: bool, what: str) -> Outcome:
    head = "killed, rerun: " if killed else "FINISHED BEFORE THE KILL POINT, rerun: "
    verdict = (f"resumed; {what} equal to an uninterrupted run" if equal
               else f"{what} DIFFER from an uninterrupted run")
    return Outcome(head + seen_line(rerun), rerun.returncode, verdict)


def write_markdown(rows: list[tuple[str, Case, Outcome]], path: Path, seconds: float) -> Path:
    from steervis.atomic import write_text

    lines = [
        "# Reliability: what a user sees when things go wrong",
        "",
        "Generated by `steervis bench reliability` (see `steervis.eval.reliability`; each row is a "
        "registered case, so a verb adds its own rows). Every row ran the `steervis` CLI in a subprocess on "
        f"a synthetic dataset with tiny random models, in a private STEERVIS_HOME ({seconds:.0f} s in all). "
        "*What the user sees* is the first telling line of stderr (an error, else a warning, else stdout). "
        "*Result* is what became of the user's work: for a bad input, whether it ended in one sentence with "
        "nothing half-written; for a kill -9, whether rerunning the same command resumed to a result equal "
        "to an uninterrupted run.",
        "",
    ]
    groups = sorted(dict.fromkeys(c.group for _, c, _ in rows), key=lambda g: (GROUPS + [g]).index(g))
    for group in groups:
        lines += [f"## {group}", "", "| input | what the user sees | exit | result |", "|---|---|---|---|"]
        for _, case, out in (r for r in rows if r[1].group == group):
            seen = out.seen.replace("`", "'")  # a backtick inside would end the code span
            cells = [case.title, f"`{seen}`" if seen else "", str(out.code), out.result]
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
        lines.append("")
    return write_text(path, "\n".join(lines))


def tiny_runs(methods: str) -> list[str]:
    """``--set runs=[...]``: a run per ``method`` or ``method@label`` (comma-separated), zeroshot on the tiny
    random CLIP."""
    runs = []
    for label in methods.split(","):
        method = label.split("@")[0]
        runs.append({"label": label, "method": method,
                     **({"options": {"matcher": "tiny-clip"}} if method == "zeroshot" else {})})
    return ["--set", "runs=" + json.dumps(runs)]


def evaluate_args(ws: Workspace, *extra: object, data: Path | None = None, out: str = "runs",
                  methods: str = "zeroshot") -> list[str]:
    """The arguments of a tiny ``steervis evaluate`` on the workspace's toy folder (or ``data``)."""
    return ["evaluate", "--data", data or ws.toy(), "--out", ws.root / out, *tiny_runs(methods),
            *TINY_EVALUATE, *map(str, extra)]
