"""The steervis CLI started warm: one server process imports torch, its company and steervis' verbs once, then
forks a fresh process per command.

A forked command is a process of its own (its own pid, environment, working directory, standard streams and
exit status: a kill -9 kills it alone) that parses its arguments and runs ``steervis.cli.main`` as ``python -c
"...main()"`` would, less the seconds of importing torch and of tearing its modules down at exit (it runs the
exit handlers, then ends). Run as a script it is the server; :class:`WarmCli` starts and talks to it.
``STEERVIS_RELIABILITY_COLD=1`` makes the tests start every command cold instead.

Protocol, one JSON object a line: ``{"argv", "env", "cwd", "stdin", "stdout", "stderr"}`` in (file paths for
the streams), ``{"pid": n}`` back at once, ``{"exit": n, "code": c}`` when that process ends (``c = -9``:
killed by SIGKILL).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import select
import subprocess
import sys
import threading
import traceback
from pathlib import Path

# The libraries every verb imports; steervis itself is imported fresh by each command.
PRELOAD = ("torch", "transformers", "peft", "safetensors.torch", "pandas", "pyarrow.parquet", "PIL.Image",
           "sklearn.linear_model")


def _run_command(request: dict) -> None:
    """In the forked process: become the command, then exit as its ``main`` says (never returns)."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, path, flags in [(0, request["stdin"] or os.devnull, os.O_RDONLY),
                            (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)]:
        opened = os.open(path, flags, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115  (the command's standard input, read by chat)
    sys.argv = ["steervis", *request["argv"]]
    from steervis.cli import main

    try:
        code = main()
    except SystemExit as stop:
        code = stop.code
    except BaseException:  # an uncaught exception: its traceback and exit 1, as in a started program
        traceback.print_exc()
        code = 1
    if isinstance(code, str):
        print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    atexit._run_exitfuncs()  # noqa: SLF001  (what a program's exit runs)
    # Skipping the teardown of torch & co saves seconds a command; the process ends as the program would.
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


def serve() -> None:
    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # an optional extra not installed: no verb imports it
            importlib.import_module(name)
    from steervis.cli import build_parser

    build_parser()  # imports every verb's module; each command still parses its arguments afresh
    pending = b""
    while True:
        ready, _, _ = select.select([0], [], [], 0.02)
        _reap()
        if not ready:
            continue
        chunk = os.read(0, 1 << 16)
        if not chunk:  # the test session ended
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            pid = os.fork()
            if pid == 0:
                _run_command(json.loads(line))
            os.write(1, (json.dumps({"pid": pid}) + "\n").encode())


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = os.waitstatus_to_exitcode(status)
        os.write(1, (json.dumps({"exit": pid, "code": code}) + "\n").encode())


class WarmCli:
    """The client: ``spawn`` a command, get a :class:`Forked` (a ``subprocess.Popen`` look-alike)."""

    def __init__(self, env: dict[str, str], streams: Path):
        self.streams = streams
        streams.mkdir(parents=True, exist_ok=True)
        self.server = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, env=env, cwd=streams)
        self.codes: dict[int, int] = {}
        self.pids: list[int] = []
        self.changed = threading.Condition()
        self.lock = threading.Lock()  # one spawn at a time: replies come back in request order
        self.count = 0
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        for line in self.server.stdout:
            message = json.loads(line)
            with self.changed:
                if "pid" in message:
                    self.pids.append(message["pid"])
                else:
                    self.codes[message["exit"]] = message["code"]
                self.changed.notify_all()

    def spawn(self, argv: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> Forked:
        with self.lock:
            self.count += 1
            base = self.streams / f"{self.count:04d}"
            if stdin is not None:
                Path(f"{base}.in").write_text(stdin)
            request = {"argv": argv, "env": env, "cwd": str(cwd), "stdout": f"{base}.out",
                       "stderr": f"{base}.err", "stdin": f"{base}.in" if stdin is not None else None}
            with self.changed:
                before = len(self.pids)
                self.server.stdin.write((json.dumps(request) + "\n").encode())
                self.server.stdin.flush()
                # The first answer waits for the imports: minutes on a loaded machine.
                if not self.changed.wait_for(lambda: len(self.pids) > before, timeout=900):
                    raise RuntimeError("the warm steervis server did not answer")
                return Forked(self, self.pids[before], argv, base)

    def close(self) -> None:
        self.server.kill()  # only the server this pytest session started; its commands have all ended
        self.server.wait()


class Forked:
    """One command: ``pid``, ``poll()``, ``wait()``, ``communicate()``, ``returncode`` as in ``Popen``."""

    def __init__(self, cli: WarmCli, pid: int, args: list[str], base: Path):
        self.cli, self.pid, self.args, self.base = cli, pid, args, base

    @property
    def returncode(self) -> int | None:
        return self.cli.codes.get(self.pid)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        with self.cli.changed:
            if not self.cli.changed.wait_for(lambda: self.pid in self.cli.codes, timeout=timeout):
                os.kill(self.pid, 9)  # only the command this test started
                raise subprocess.TimeoutExpired(self.args, timeout)
        return self.cli.codes[self.pid]

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        return self.wait_all(timeout)[1:]

    def wait_all(self, timeout: float | None = None) -> tuple[int, str, str]:
        """The exit code, standard output and standard error once the command ended."""
        code = self.wait(timeout)
        out, err = (Path(f"{self.base}.{s}").read_text(errors="replace") for s in ("out", "err"))
        return code, out, err


if __name__ == "__main__":
    serve()
