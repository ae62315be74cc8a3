"""A row of ``steervis bench reliability`` for a hostile trainer checkpoint.

A pickle whose unpickling runs a shell command is planted where ``steervis vlm train --stage 1`` (tiny-llama,
the toy pool) looks for its resumable state, under both the name older versions used (``trainer-state.pt``)
and the current one; the run must never unpickle it: no marker file, and a model trained from step 0.
"""

from __future__ import annotations

import os
import pickle
import shlex
from pathlib import Path

from steervis.eval.reliability import Outcome, Workspace, case, seen_line
from steervis.eval.reliability_cases_react import toy_pool
from steervis.eval.reliability_cases_vlm import TRAIN, trained_line


class _Planted:
    """Unpickled, it runs ``touch <marker>``; the pickle names only ``os.system``, so any process would run
    it."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self) -> tuple:
        return os.system, (f"touch {shlex.quote(self.marker)}",)


def plant_pickles(folder: Path, marker: Path) -> list[Path]:
    """The payload under every name the trainer's checkpoint has had: a torch.save file and raw pickle
    bytes."""
    import torch

    from steervis.lm.train import CHECKPOINT_FILE, LEGACY_CHECKPOINT

    folder.mkdir(parents=True, exist_ok=True)
    legacy, current = folder / LEGACY_CHECKPOINT, folder / CHECKPOINT_FILE
    torch.save({"fingerprint": "planted", "trainable": _Planted(marker)}, legacy)
    current.write_bytes(pickle.dumps(_Planted(marker)))
    return [legacy, current]


@case("damaged-ckpt-pickle-vlm-train",
      "a pickle planted as `vlm train`'s trainer state (`trainer-state.pt` and "
      "`trainer-state.json` in `<out>.checkpoint`), then `steervis vlm train --stage 1` (tiny-llama)",
      group="damaged cache")
def _planted_pickle(ws: Workspace) -> Outcome:
    sub = ws.fresh("ckpt-pickle")
    toy_pool(sub)
    out, marker = sub.root / "s1", sub.root / "PICKLE-RAN"
    plant_pickles(Path(f"{out}.checkpoint"), marker)
    proc = sub.steervis("vlm", "train", "--stage", "1", "--out", out, *TRAIN)
    said = trained_line(proc.stdout)
    if marker.exists():
        result = f"THE PICKLE WAS EXECUTED ({marker.name} was created)"
    elif proc.returncode != 0 or not said:
        result = "the pickle was not executed, BUT TRAINING DID NOT FINISH"
    elif "started at step 0" not in said:
        result = "the pickle was not executed, BUT TRAINING CLAIMS TO HAVE RESUMED"
    else:
        result = "the pickle was not executed; trained from scratch"
    return Outcome(seen_line(proc), proc.returncode, result)
