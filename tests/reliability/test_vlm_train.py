"""``steervis vlm train`` (tiny-llama with the embedded efficientnet-lite0 tower, on the toy pool): killed
with -9 during stage 1 or 2 and run again, it saves the uninterrupted run's projector (and LoRA adapter) bit
for bit; a hostile pickle planted as its trainer state is never unpickled."""

from __future__ import annotations

import json
import os
import pickle
import shlex
from pathlib import Path

import pytest
from workspace import Outcome, Workspace, kill_at, resumed, row, same_tensors, seen_line, toy_pool

pytestmark = pytest.mark.slow

# 18 toy-pool conversations, batches of 2: 9 steps an epoch, a checkpoint every 3 steps; a few seconds in all.
TRAIN = ["--lm", "tiny-llama", "--quiet", "--threads", "1", "--set", "pool_items=18",
         "--set", "describe_items=6", "--set", "vqa_images=0", "--set", "train.batch_size=2",
         "--set", "train.epochs=6", "--set", "train.checkpoint_every=3"]


def trained_line(stdout: str) -> str:
    """What ``steervis vlm train`` printed (a JSON summary), as one line: where it resumed, steps, where it
    saved.

    >>> trained_line('{"stage": 1, "out": "/x/s1", "resumed_from": 6, "steps": 54}')
    '(stdout) stage 1 resumed at step 6, ran to step 54, saved to /x/s1'
    >>> trained_line("not json")
    ''
    """
    try:
        done = json.loads(stdout)
        head = f"resumed at step {done['resumed_from']}" if done.get("resumed_from") else "started at step 0"
        return f"(stdout) stage {done['stage']} {head}, ran to step {done['steps']}, saved to {done['out']}"
    except (ValueError, KeyError, TypeError):
        return ""


def _stage1(w: Workspace, out: str = "s1") -> list:
    return ["vlm", "train", "--stage", "1", "--out", w.root / out, *TRAIN]


def _stage2(w: Workspace) -> list:
    return ["vlm", "train", "--stage", "2", "--init", w.root / "s1-init", "--out", w.root / "s2", *TRAIN]


@pytest.mark.parametrize("stage", [
    pytest.param(1, marks=row("kill-vlm-stage1", "kill -9 `steervis vlm train --stage 1` (tiny-llama) after "
                              "its first checkpoint", group="kill -9")),
    pytest.param(2, marks=row("kill-vlm-stage2", "kill -9 `steervis vlm train --stage 2` (tiny-llama + LoRA) "
                              "after its first checkpoint", group="kill -9"))])
def test_a_killed_vlm_training_resumes_bit_for_bit(ws, record, stage):
    from steervis.lm.train import CHECKPOINT_FILE

    sub, clean = ws.fresh(f"kill-vlm{stage}"), ws.fresh(f"kill-vlm{stage}-clean")
    args, out = (_stage1, "s1") if stage == 1 else (_stage2, "s2")
    for w in (sub, clean):
        toy_pool(w)
        if stage == 2:  # stage 2 starts from a stage-1 model, trained here without interruption
            done = w.steervis(*_stage1(w, "s1-init"))
            assert done.returncode == 0, f"the stage-1 model was not trained: {seen_line(done)}"
    checkpoint = sub.root / f"{out}.checkpoint" / CHECKPOINT_FILE  # written atomically every 3 steps
    killed, rerun = kill_at(sub, args(sub), checkpoint.exists)
    clean.steervis(*args(clean))
    equal = rerun.returncode == 0 and same_tensors(sub.root / out, clean.root / out)
    what = "projector weights" if stage == 1 else "projector and LoRA weights"
    outcome = resumed(killed, rerun, equal, what)
    said = trained_line(rerun.stdout)
    if said:
        outcome.seen = outcome.seen.split(": ", 1)[0] + ": " + said
    record(outcome.also("resumed at step" in said, "", " (BUT THE RERUN STARTED AT STEP 0)"))


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


@row("damaged-ckpt-pickle-vlm-train", "a pickle planted as `vlm train`'s trainer state (`trainer-state.pt` "
     "and `trainer-state.json` in `<out>.checkpoint`), then `steervis vlm train --stage 1` (tiny-llama)",
     group="damaged cache")
def test_a_planted_pickle_is_never_unpickled(ws, record):
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
    record(Outcome(seen_line(proc), proc.returncode, result, result.endswith("trained from scratch")))


@row("input-vlm-train-corrupt-image", "`steervis vlm train --stage 1` (tiny-llama) on the toy pool, one of "
     "its training images overwritten with text", group="bad input")
def test_a_corrupt_training_image_is_left_out_and_training_goes_on(ws, record):
    from steervis.llava.train import StageSettings, build_items

    sub = ws.fresh("corrupt-train-image")
    pool = toy_pool(sub)
    trains_on = build_items(StageSettings(stage=1, pool_items=18), pool_root=pool)
    victim = Path(trains_on[0].path)
    victim.write_text("not an image at all")
    proc = sub.steervis("vlm", "train", "--stage", "1", "--out", sub.root / "s1", *TRAIN)
    warned = [line for line in proc.stderr.splitlines() if "skipping" in line and victim.name in line]
    card = json.loads((sub.root / "s1" / "card.json").read_text()) if proc.returncode == 0 else {}
    skipped = json.dumps(card).count('"skipped_images": 1')
    seen = warned[0] if warned else seen_line(proc)
    record(Outcome(seen, proc.returncode, "trained on the other images; the card counts 1 skipped image",
                   proc.returncode == 0 and bool(warned) and skipped == 1))
