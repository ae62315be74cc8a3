"""Claimed work on a :class:`~steervis.store.Store`: two runs on one store never compute the same key, and a
killed run's keys are taken over.

Under a short lock on the store, a run reads what others finished since it last looked, then claims keys
still missing that nobody holds by writing ``claims/claim-*.json`` (the list of its keys) and holding an
exclusive ``flock`` on that file while it works. A run killed with SIGKILL loses its flock with its life, so
the next look finds the claim unlocked, removes it and hands the keys out again: no pid files to go stale, no
timeouts to tune.

>>> import tempfile
>>> from steervis.store import Store
>>> store = Store(tempfile.mkdtemp())
>>> done, claim = Claims(store).next_chunk(["a", "b", "c"], limit=2)
>>> claim.keys, Claims(store).next_chunk(["a", "b", "c"], limit=2)[1].keys  # another run gets the rest
(['a', 'b'], ['c'])
>>> claim.release()
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from steervis.atomic import DAMAGED


@dataclass
class Claim:
    """Keys this run holds; :meth:`release` after their rows are in the store."""

    path: Path
    handle: IO[str]
    keys: list[str]

    def release(self) -> None:
        self.path.unlink(missing_ok=True)  # gone before the flock ends: nobody mistakes it for a dead run's
        self.handle.close()

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class Claims:
    """Hands out chunks of one store's missing keys to the runs working on it at once."""

    def __init__(self, store: Any):
        self.store = store
        self.dir = store.dir / "claims"
        self.dir.mkdir(exist_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # held for milliseconds: reading claims, writing one
            yield

    def held_by_others(self) -> set[str]:
        """Keys in live claims; claims whose run died (flock free) are removed."""
        held: set[str] = set()
        for path in self.dir.glob("claim-*.json"):
            try:
                with open(path) as handle:
                    try:
                        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    except OSError:  # locked: its run is alive
                        held.update(json.loads(handle.read() or "[]"))
                        continue
                path.unlink(missing_ok=True)  # nobody holds it: the run that wrote it was killed
            except FileNotFoundError:
                continue  # released while we looked
            except DAMAGED:
                continue  # being written: it is locked, so the next look reads it whole
        return held

    def next_chunk(self, todo: Sequence[str], limit: int) -> tuple[list[str], Claim | None]:
        """Keys of ``todo`` now in the store (other runs finished them), and a claim on up to ``limit`` free
        ones: ``None`` when every key still missing is held by another live run (wait and ask again)."""
        with self._locked():
            # Claims first, then the store: a claim released in between had its rows written before.
            held = self.held_by_others()
            self.store.refresh()
            done = [k for k in todo if k in self.store]
            free = [k for k in todo if k not in self.store and k not in held][:limit]
            if not free:
                return done, None
            path = self.dir / f"claim-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
            tmp = path.with_name("." + path.name)
            handle = open(tmp, "w+")  # noqa: SIM115  (kept open: the flock lives as long as the claim)
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(json.dumps(free))
            handle.flush()
            os.replace(tmp, path)  # visible only whole, and already locked
            return done, Claim(path, handle, free)
