"""Claimed work: two describes on one store never describe the same image, and a killed one's work is taken
over.

Under a short lock on the store folder, a run reads what other runs have finished since it last looked, then
claims a chunk of still-missing images nobody else holds by writing ``claims/claim-*.json`` (the list of its
sha256s) and holding an exclusive ``flock`` on that file while it works. A run killed with SIGKILL loses its
flock with its life, so the next look finds the claim unlocked, removes it and hands the images out again: no
pid files to go stale, no timeouts to tune.

>>> import tempfile
>>> from steervis.vllavo.describe.store import DescriptionStore
>>> store = DescriptionStore(tempfile.mkdtemp(), "k")
>>> claims = WorkClaims(store)
>>> fresh, claim = claims.next_chunk(["a", "b", "c"], limit=2)
>>> claim.shas, WorkClaims(store).next_chunk(["a", "b", "c"], limit=2)[1].shas  # another run gets the rest
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
    """sha256s this run holds; :meth:`release` after their records are in the store."""

    path: Path
    handle: IO[str]
    shas: list[str]

    def release(self) -> None:
        self.path.unlink(missing_ok=True)  # gone before the flock ends: nobody mistakes it for a dead run's
        self.handle.close()

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class WorkClaims:
    """Hands out chunks of one store's missing images to the runs working on it at once."""

    def __init__(self, store: Any):
        self.store = store
        self.dir = Path(store.dir) / "claims"
        self.dir.mkdir(exist_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # held for milliseconds: reading claims, writing one
            yield

    def held_by_others(self) -> set[str]:
        """sha256s in live claims; claims whose run died (flock free) are removed."""
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

    def next_chunk(self, todo: Sequence[str], limit: int) -> tuple[dict[str, dict], Claim | None]:
        """Records other runs finished since the last look, and a claim on up to ``limit`` free images.

        The claim is ``None`` when every image still missing is held by another live run: wait and ask again.
        """
        with self._locked():
            # Claims first, then the store: a claim released in between had its records written before.
            held = self.held_by_others()
            fresh = self.store.refresh(set(todo))
            free = [s for s in todo if s not in fresh and s not in held][:limit]
            if not free:
                return fresh, None
            path = self.dir / f"claim-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
            tmp = path.with_name("." + path.name)
            handle = open(tmp, "w+")  # noqa: SIM115  (kept open: the flock lives as long as the claim)
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(json.dumps(free))
            handle.flush()
            os.replace(tmp, path)  # visible only whole, and already locked
            return fresh, Claim(path, handle, free)
