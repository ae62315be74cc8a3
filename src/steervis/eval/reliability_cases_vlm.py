"""The rows of ``steervis bench reliability`` for steervis' LLaVA.

Bad input to ``steervis chat`` and ``steervis caption`` (no image, a missing file, a non-image, an over-long
prompt) on ``tiny-llava`` (random weights), and kill -9 during ``steervis vlm train --stage 1`` and
``--stage 2`` on ``tiny-llama`` with the embedded efficientnet-lite0 tower, trained on the toy pool, then the
same command again: the saved projector (and LoRA adapter) must equal an uninterrupted run's, bit for bit.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image

from steervis.eval.reliability import Outcome, Workspace, case, kill_at, refused, resumed, seen_line
from steervis.eval.reliability_cases_react import same_tensors, toy_pool

TINY_LLAVA = ["--model", "tiny-llava"]
# 18 toy-pool conversations, batches of 2: 9 steps an epoch, a checkpoint every 3 steps; a few seconds in all.
TRAIN = ["--lm", "tiny-llama", "--quiet", "--threads", "1", "--set", "pool_items=18",
         "--set", "describe_items=6", "--set", "vqa_images=0", "--set", "train.batch_size=2",
         "--set", "train.epochs=6", "--set", "train.checkpoint_every=3"]


def _red(ws: Workspace) -> Path:
    path = ws.root / "red.png"
    if not path.exists():
        Image.new("RGB", (32, 32), "red").save(path)
    return path


def _chat(ws: Workspace, stdin: str, *args: object) -> subprocess.CompletedProcess:
    """``steervis chat`` with a scripted standard input (one question per line)."""
    return subprocess.run(ws.argv(["chat", *map(str, args)]), env=ws.env, capture_output=True, text=True,
                          input=stdin, timeout=300, cwd=ws.root)


# ---- bad input ------------------------------------------------------------------------------------------
@case("input-caption-no-image", "`steervis caption` with no image")
def _caption_nothing(ws: Workspace) -> Outcome:
    return refused(ws.steervis("caption", *TINY_LLAVA))


@case("input-caption-missing", "`steervis caption missing.png` (no such file)")
def _caption_missing(ws: Workspace) -> Outcome:
    return refused(ws.steervis("caption", ws.root / "missing.png", *TINY_LLAVA))


@case("input-caption-non-image", "`steervis caption notes.png` (a text file named .png)")
def _caption_text(ws: Workspace) -> Outcome:
    (ws.root / "notes.png").write_text("not an image")
    return refused(ws.steervis("caption", ws.root / "notes.png", *TINY_LLAVA))


@case("input-caption-empty-folder", "`steervis caption <a folder with no image>`")
def _caption_folder(ws: Workspace) -> Outcome:
    (ws.root / "no-images").mkdir(exist_ok=True)
    return refused(ws.steervis("caption", ws.root / "no-images", *TINY_LLAVA))


@case("input-chat-missing-image", "`steervis chat --image missing.png`")
def _chat_missing(ws: Workspace) -> Outcome:
    return refused(_chat(ws, "what is it?\n", "--image", ws.root / "missing.png", *TINY_LLAVA))


@case("input-chat-non-image", "`steervis chat --image notes.png` (a text file named .png)")
def _chat_text(ws: Workspace) -> Outcome:
    (ws.root / "notes.png").write_text("not an image")
    return refused(_chat(ws, "what is it?\n", "--image", ws.root / "notes.png", *TINY_LLAVA))


@case("input-chat-no-image", "`steervis chat` with no `--image` (by design a text-only conversation)")
def _chat_no_image(ws: Workspace) -> Outcome:
    proc = _chat(ws, "hello\n", *TINY_LLAVA, "--max-new-tokens", "3")
    ok = proc.returncode == 0 and "vlm> " in proc.stdout and "Traceback" not in proc.stderr
    return Outcome(seen_line(proc), proc.returncode, "answered without an image, as documented" if ok
                   else "NEITHER AN ANSWER NOR ONE SENTENCE")


@case("input-chat-long-prompt", "`steervis chat --image red.png`, a 3000-word question")
def _chat_long(ws: Workspace) -> Outcome:
    return refused(_chat(ws, "why " * 3000 + "\n", "--image", _red(ws), *TINY_LLAVA))


# ---- kill -9 and rerun ----------------------------------------------------------------------------------
def _stage1(w: Workspace, out: str = "s1") -> list:
    return ["vlm", "train", "--stage", "1", "--out", w.root / out, *TRAIN]


def _stage2(w: Workspace) -> list:
    return ["vlm", "train", "--stage", "2", "--init", w.root / "s1-init", "--out", w.root / "s2", *TRAIN]


def _kill_stage(ws: Workspace, stage: int) -> Outcome:
    sub, clean = ws.fresh(f"kill-vlm{stage}"), ws.fresh(f"kill-vlm{stage}-clean")
    args = _stage1 if stage == 1 else _stage2
    out = "s1" if stage == 1 else "s2"
    for w in (sub, clean):
        toy_pool(w)
        if stage == 2:  # stage 2 starts from a stage-1 model, trained here without interruption
            done = w.steervis(*_stage1(w, "s1-init"))
            if done.returncode != 0:
                return Outcome(seen_line(done), done.returncode,
                               "CASE ERROR: the stage-1 model was not trained")
    from steervis.lm.train import CHECKPOINT_FILE

    checkpoint = sub.root / f"{out}.checkpoint" / CHECKPOINT_FILE  # written atomically every 3 steps
    killed, rerun = kill_at(sub, args(sub), checkpoint.exists)
    clean.steervis(*args(clean))
    equal = rerun.returncode == 0 and same_tensors(sub.root / out, clean.root / out)
    what = "projector weights" if stage == 1 else "projector and LoRA weights"
    outcome = resumed(killed, rerun, equal, what)
    said = trained_line(rerun.stdout)
    if said:
        outcome.seen = outcome.seen.split(": ", 1)[0] + ": " + said
    return outcome


def trained_line(stdout: str) -> str:
    """What ``steervis vlm train`` printed (a JSON summary), as one line: where it resumed, steps, where it
    saved.

    >>> trained_line('{"stage": 1, "out": "/x/s1", "resumed_from": 6, "steps": 54}')
    '(stdout) stage 1 resumed at step 6, ran to step 54, saved to /x/s1'
    >>> trained_line("not json")
    ''
    """
    import json

    try:
        done = json.loads(stdout)
        head = f"resumed at step {done['resumed_from']}" if done.get("resumed_from") else "started at step 0"
        return f"(stdout) stage {done['stage']} {head}, ran to step {done['steps']}, saved to {done['out']}"
    except (ValueError, KeyError, TypeError):
        return ""


@case("kill-vlm-stage1", "kill -9 `steervis vlm train --stage 1` (tiny-llama) after its first checkpoint",
      group="kill -9")
def _kill_stage1(ws: Workspace) -> Outcome:
    return _kill_stage(ws, 1)


@case("kill-vlm-stage2",
      "kill -9 `steervis vlm train --stage 2` (tiny-llama + LoRA) after its first checkpoint",
      group="kill -9")
def _kill_stage2(ws: Workspace) -> Outcome:
    return _kill_stage(ws, 2)
