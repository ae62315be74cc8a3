"""The rows of ``steervis bench reliability`` for numeric CLI values and model names.

A count out of range (``--batch-size 0``, ``--images 0``, ``--max-new-tokens 0``, ``--set k=-1``) is refused
in one sentence naming the flag and the range; an answer asked longer than the model's context is capped with
one warning; a folder with one bad file is captioned but for that file; a hub id with a dot is a hub id
(offline: the model is not available), never a missing file. Every model is ``tiny-llava`` (random weights).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from steervis.eval.reliability import Outcome, Workspace, case, refused, seen_line
from steervis.eval.reliability_cases_vlm import TINY_LLAVA, _chat, _red

DOTTED_HUB_ID = "llava-hf/llava-1.5-7b-hf"  # the README's own example


def _folder_with_a_bad_file(ws: Workspace) -> Path:
    folder = ws.root / "one-bad"
    if not folder.exists():
        folder.mkdir()
        for name in ("a.png", "c.png"):
            Image.new("RGB", (32, 32), "red").save(folder / name)
        (folder / "b.png").write_text("not an image")
    return folder


@case("input-values-caption-batch-size", "`steervis caption red.png --batch-size 0`")
def _caption_batch_size(ws: Workspace) -> Outcome:
    return refused(ws.steervis("caption", _red(ws), "--batch-size", "0", *TINY_LLAVA))


@case("input-values-caption-limit", "`steervis caption <folder> --limit -1`")
def _caption_limit(ws: Workspace) -> Outcome:
    return refused(ws.steervis("caption", _folder_with_a_bad_file(ws), "--limit", "-1", *TINY_LLAVA))


@case("input-values-vlm-eval-images", "`steervis vlm eval --images 0`")
def _vlm_eval_images(ws: Workspace) -> Outcome:
    return refused(ws.steervis("vlm", "eval", "--images", "0", *TINY_LLAVA))


@case("input-values-chat-no-tokens", "`steervis chat --max-new-tokens 0`")
def _chat_no_tokens(ws: Workspace) -> Outcome:
    return refused(_chat(ws, "what is it?\n", "--image", _red(ws), "--max-new-tokens", "0", *TINY_LLAVA))


@case("input-values-chat-past-context",
      "`steervis chat --max-new-tokens 10000000` (beyond the model's context)")
def _chat_past_context(ws: Workspace) -> Outcome:
    proc = _chat(ws, "what is it?\n", "--image", _red(ws), "--max-new-tokens", "10000000", *TINY_LLAVA)
    ok = proc.returncode == 0 and "vlm> " in proc.stdout and "beyond this model's" in proc.stderr
    return Outcome(seen_line(proc), proc.returncode, "answered up to the end of the context, one warning line"
                   if ok and "Traceback" not in proc.stderr else "NEITHER A CAPPED ANSWER NOR ONE SENTENCE")


@case("input-values-bench-set", "`steervis bench retrieval --set k=-1`")
def _bench_opt(ws: Workspace) -> Outcome:
    return refused(ws.steervis("bench", "retrieval", "--set", "k=-1"))


@case("input-values-caption-one-bad-file",
      "`steervis caption <folder>`, one of its three .png files a text file")
def _caption_one_bad(ws: Workspace) -> Outcome:
    folder = _folder_with_a_bad_file(ws)
    proc = ws.steervis("caption", folder, *TINY_LLAVA)
    captioned = sorted(Path(line.split("\t")[0]).name for line in proc.stdout.splitlines() if "\t" in line)
    warned = f"skipping {folder / 'b.png'}" in proc.stderr
    ok = proc.returncode == 0 and captioned == ["a.png", "c.png"] and warned
    return Outcome(seen_line(proc), proc.returncode,
                   "the 2 images captioned, the bad file skipped with a warning"
                   if ok else f"CAPTIONED {captioned}, warned: {warned}")


@case("input-values-hub-id-dot",
      f"`steervis caption red.png --model {DOTTED_HUB_ID}` offline (a dot in a hub id)")
def _hub_id_dot(ws: Workspace) -> Outcome:
    outcome = refused(ws.steervis("caption", _red(ws), "--model", DOTTED_HUB_ID))
    hub = "is not available" in outcome.seen and "does not exist" not in outcome.seen
    outcome.result += ", read as a hub id (not available offline)" if hub else ", BUT TAKEN FOR A FILE"
    return outcome
