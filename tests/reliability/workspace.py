"""What every reliability test stands on: a throwaway :class:`Workspace` (its own ``STEERVIS_HOME``, synthetic
datasets, tiny random models) that runs the ``steervis`` CLI in other processes, and the :class:`Outcome` of
one row of docs/RELIABILITY.md: what the user saw, the exit code, and what became of their work.

A test performs one input, builds its Outcome with the verdict helpers here (:func:`refused`, :func:`resumed`,
:meth:`Outcome.also`), and hands it to the ``record`` fixture, which keeps the row for the table and fails
the test when the row does not hold what it claims.
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

import pytest

# The CLI flags that make fit and predict run on tiny random models in seconds.
FAST_FIT = ["--preset", "decide-tiny", "--describe-preset", "describe-tiny", "--quiet"]
TINY_DESCRIBE = ["describe.matcher=tiny-clip", "describe.captioner=null"]
TINY_EVALUATE = [x for s in TINY_DESCRIBE for x in ("--set", s)]
DESCRIBE_TINY = ["--quiet", "--preset", "describe-tiny"]
ENTRY = "import sys; from steervis.cli import main; sys.exit(main())"
# Seconds a kill point may take to arrive before the row says "finished before the kill point".
KILL_WAIT_S = 120
# steervis' own errors ("steervis: error: ...") and argparse's usage errors ("steervis caption: error: ...").
ERROR_LINE = re.compile(r"steervis( [\w-]+)*: error: ")
# Set, every command starts cold (`python -c "...main()"`) instead of forked from a warm server.
COLD = bool(os.environ.get("STEERVIS_RELIABILITY_COLD"))


def row(name: str, title: str, group: str = "bad input") -> pytest.MarkDecorator:
    """Mark a test as the table row ``name`` (rows sort by it within ``group``), ``title`` its input as a
    person would describe it."""
    return pytest.mark.row(name=name, title=title, group=group)


@dataclass
class Outcome:
    """One row's facts: what the user saw, the exit code, what became of their work, and whether that is
    what the row claims (``ok``: a test fails when not)."""

    seen: str
    code: int | None
    result: str
    ok: bool = True

    def also(self, holds: bool, said: str, otherwise: str) -> Outcome:
        """Add a claim to the result: ``said`` when it ``holds``, else ``otherwise`` (and the row fails)."""
        self.result += said if holds else otherwise
        self.ok = self.ok and holds
        return self


class Workspace:
    """A private STEERVIS_HOME, a root for datasets and runs, and the steervis CLI in other processes."""

    def __init__(self, root: Path, cli: Any = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.home = self.root / "home"
        self.cli = cli  # a warm_cli.WarmCli, or None: every command starts cold
        self.env = {**base_env(), "STEERVIS_HOME": str(self.home)}

    def fresh(self, name: str) -> Workspace:
        """Another workspace (its own cache) for an uninterrupted twin run."""
        return Workspace(self.root / name, self.cli)

    def toy(self, name: str = "toy", **kw: Any) -> Path:
        from steervis.data.synthetic import make_toy_dataset

        path = self.root / name
        return path if path.exists() else make_toy_dataset(path, **{"per_class": 4, "size": 32, **kw})

    def start(self, *args: Any) -> Any:
        """The command started: a ``Popen`` (or its warm look-alike): ``pid``, ``poll``, ``communicate``."""
        if self.cli is not None:
            return self.cli.spawn(list(map(str, args)), self.env, self.root)
        return subprocess.Popen(self.argv(args), env=self.env, cwd=self.root, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def steervis(self, *args: Any, stdin: str | None = None, timeout: float = 300) -> Any:
        """The command run to its end (``stdin``: what a person types): a ``CompletedProcess``."""
        if self.cli is None:
            return subprocess.run(self.argv(args), env=self.env, cwd=self.root, input=stdin, text=True,
                                  capture_output=True, timeout=timeout)
        proc = self.cli.spawn(list(map(str, args)), self.env, self.root, stdin)
        return subprocess.CompletedProcess(proc.args, *proc.wait_all(timeout))

    @staticmethod
    def argv(args: Any) -> list[str]:
        # The CLI as a user runs it, in another process: a program started, not a module imported from below.
        return [sys.executable, "-c", ENTRY, *map(str, args)]

    @functools.cached_property
    def adapter(self) -> Path:
        out = self.root / "adapter"
        done = self.steervis("fit", "--data", self.toy(), "--domains", "photo", "--out", out, *FAST_FIT)
        if done.returncode != 0:
            raise RuntimeError(f"fitting the shared adapter failed: {done.stderr[-500:]}")
        return out


def base_env() -> dict[str, str]:
    """The environment of every command: offline, this very steervis (a worktree's src/ first)."""
    import steervis

    src = Path(steervis.__file__).resolve().parents[1]
    path = os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": path, "TOKENIZERS_PARALLELISM": "false",
            "STEERVIS_TRACEBACK": ""}


def seen_line(proc: Any) -> str:
    """The line a user notices: an error, else a traceback's last line, else the first warning, else
    stdout."""
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
    """The verdict for a bad input: one sentence and exit 2, no traceback, nothing half-written."""
    seen = seen_line(proc)
    errors = [ln for ln in (proc.stderr or "").splitlines() if ERROR_LINE.match(ln.strip())]
    ok = (proc.returncode == 2 and bool(ERROR_LINE.match(seen)) and len(errors) == 1
          and "Traceback" not in (proc.stderr or ""))
    outcome = Outcome(seen, proc.returncode, "one sentence, no traceback" if ok else "NOT A SENTENCE", ok)
    if absent is not None:
        outcome.also(not absent.exists(), ", nothing written", f", BUT {absent.name} WAS WRITTEN")
    return outcome


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
    """The verdict for a kill -9: the kill landed, and the rerun ended equal to an uninterrupted run."""
    head = "killed, rerun: " if killed else "FINISHED BEFORE THE KILL POINT, rerun: "
    verdict = (f"resumed; {what} equal to an uninterrupted run" if equal
               else f"{what} DIFFER from an uninterrupted run")
    return Outcome(head + seen_line(rerun), rerun.returncode, verdict, killed and equal)


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


def toy_pool(ws: Workspace) -> Path:
    """The toy knowledge pool where ``steervis`` looks by default: the workspace's STEERVIS_HOME/data/pool."""
    from steervis.data.synthetic import make_toy_pool

    root = ws.home / "data" / "pool"
    return root if (root / "manifest.parquet").exists() else make_toy_pool(root)


def same_tensors(a: Path, b: Path) -> bool:
    """Whether two saved models hold the same ``*.safetensors`` files with bitwise-equal tensors."""
    from safetensors.torch import load_file

    names = sorted(p.relative_to(a) for p in a.rglob("*.safetensors"))
    if not names or names != sorted(p.relative_to(b) for p in b.rglob("*.safetensors")):
        return False
    for name in names:
        x, y = load_file(str(a / name)), load_file(str(b / name))
        if x.keys() != y.keys() or not all(x[k].shape == y[k].shape and bool((x[k] == y[k]).all())
                                           for k in x):
            return False
    return True


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 3)])


def red_image(ws: Workspace) -> Path:
    """``red.png``: a 32-pixel red square in the workspace."""
    from PIL import Image

    path = ws.root / "red.png"
    if not path.exists():
        Image.new("RGB", (32, 32), "red").save(path)
    return path
