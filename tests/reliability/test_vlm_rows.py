"""Bad input and out-of-range values to ``steervis chat``, ``caption`` and ``vlm eval`` on ``tiny-llava``
(random weights): one sentence naming the fix; an answer asked longer than the context is capped with one
warning; a folder with one bad file is captioned but for that file; a hub id with a dot is a hub id."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from workspace import Outcome, Workspace, red_image, refused, row, seen_line

pytestmark = pytest.mark.slow

TINY_LLAVA = ["--model", "tiny-llava"]
DOTTED_HUB_ID = "llava-hf/llava-1.5-7b-hf"  # the README's own example
ASK = "what is it?\n"


def _folder_with_a_bad_file(ws: Workspace) -> Path:
    folder = ws.root / "one-bad"
    if not folder.exists():
        folder.mkdir()
        for name in ("a.png", "c.png"):
            Image.new("RGB", (32, 32), "red").save(folder / name)
        (folder / "b.png").write_text("not an image")
    return folder


def _notes(ws: Workspace) -> Path:
    (ws.root / "notes.png").write_text("not an image")
    return ws.root / "notes.png"


def _no_images(ws: Workspace) -> Path:
    (ws.root / "no-images").mkdir(exist_ok=True)
    return ws.root / "no-images"


REFUSED = [
    ("input-caption-no-image", "`steervis caption` with no image", lambda ws: ["caption"], None),
    ("input-caption-missing", "`steervis caption missing.png` (no such file)",
     lambda ws: ["caption", ws.root / "missing.png"], None),
    ("input-caption-non-image", "`steervis caption notes.png` (a text file named .png)",
     lambda ws: ["caption", _notes(ws)], None),
    ("input-caption-empty-folder", "`steervis caption <a folder with no image>`",
     lambda ws: ["caption", _no_images(ws)], None),
    ("input-chat-missing-image", "`steervis chat --image missing.png`",
     lambda ws: ["chat", "--image", ws.root / "missing.png"], ASK),
    ("input-chat-non-image", "`steervis chat --image notes.png` (a text file named .png)",
     lambda ws: ["chat", "--image", _notes(ws)], ASK),
    ("input-chat-long-prompt", "`steervis chat --image red.png`, a 3000-word question",
     lambda ws: ["chat", "--image", red_image(ws)], "why " * 3000 + "\n"),
    ("input-values-caption-batch-size", "`steervis caption red.png --batch-size 0`",
     lambda ws: ["caption", red_image(ws), "--batch-size", "0"], None),
    ("input-values-caption-limit", "`steervis caption <folder> --limit -1`",
     lambda ws: ["caption", _folder_with_a_bad_file(ws), "--limit", "-1"], None),
    ("input-values-vlm-eval-images", "`steervis vlm eval --images -1`",
     lambda ws: ["vlm", "eval", "--images", "-1"], None),
    ("input-values-chat-no-tokens", "`steervis chat --max-new-tokens 0`",
     lambda ws: ["chat", "--image", red_image(ws), "--max-new-tokens", "0"], ASK),
]


@pytest.mark.parametrize("args, stdin", [pytest.param(a, s, id=n, marks=row(n, t)) for n, t, a, s in REFUSED])
def test_a_bad_vlm_input_is_refused(ws, record, args, stdin):
    record(refused(ws.steervis(*args(ws), *TINY_LLAVA, stdin=stdin)))


@row("input-values-bench-set", "`steervis bench retrieval --set k=-1`")
def test_a_bench_option_out_of_range_is_refused(ws, record):
    record(refused(ws.steervis("bench", "retrieval", "--set", "k=-1")))


@row("input-chat-no-image", "`steervis chat` with no `--image` (by design a text-only conversation)")
def test_chat_without_an_image_answers(ws, record):
    proc = ws.steervis("chat", *TINY_LLAVA, "--max-new-tokens", "3", stdin="hello\n")
    ok = proc.returncode == 0 and "vlm> " in proc.stdout and "Traceback" not in proc.stderr
    record(Outcome(seen_line(proc), proc.returncode, "answered without an image, as documented" if ok
                   else "NEITHER AN ANSWER NOR ONE SENTENCE", ok))


@row("input-values-chat-past-context",
     "`steervis chat --max-new-tokens 10000000` (beyond the model's context)")
def test_an_answer_past_the_context_is_capped_with_one_warning(ws, record):
    proc = ws.steervis("chat", "--image", red_image(ws), "--max-new-tokens", "10000000", *TINY_LLAVA,
                       stdin=ASK)
    ok = (proc.returncode == 0 and "vlm> " in proc.stdout and "beyond this model's" in proc.stderr
          and "Traceback" not in proc.stderr)
    record(Outcome(seen_line(proc), proc.returncode, "answered up to the end of the context, one warning line"
                   if ok else "NEITHER A CAPPED ANSWER NOR ONE SENTENCE", ok))


@row("input-values-caption-one-bad-file",
     "`steervis caption <folder>`, one of its three .png files a text file")
def test_caption_skips_the_one_bad_file_of_a_folder(ws, record):
    folder = _folder_with_a_bad_file(ws)
    proc = ws.steervis("caption", folder, *TINY_LLAVA)
    captioned = sorted(Path(line.split("\t")[0]).name for line in proc.stdout.splitlines() if "\t" in line)
    warned = f"skipping {folder / 'b.png'}" in proc.stderr
    ok = proc.returncode == 0 and captioned == ["a.png", "c.png"] and warned
    record(Outcome(seen_line(proc), proc.returncode,
                   "the 2 images captioned, the bad file skipped with a warning" if ok
                   else f"CAPTIONED {captioned}, warned: {warned}", ok))


@row("input-values-hub-id-dot",
     f"`steervis caption red.png --model {DOTTED_HUB_ID}` offline (a dot in a hub id)")
def test_a_hub_id_with_a_dot_is_a_hub_id(ws, record):
    outcome = refused(ws.steervis("caption", red_image(ws), "--model", DOTTED_HUB_ID))
    hub = "is not available" in outcome.seen and "does not exist" not in outcome.seen
    record(outcome.also(hub, ", read as a hub id (not available offline)", ", BUT TAKEN FOR A FILE"))


IMPOSSIBLE_RECIPES = [
    ("input-values-vlm-train-batch", "`steervis vlm train --preset llava-stage2 --set train.batch_size=0`",
     ["--preset", "llava-stage2", "--set", "train.batch_size=0"]),
    ("input-values-vlm-train-count", "`steervis vlm train --preset llava-stage2 --set vqa_images=-1`",
     ["--preset", "llava-stage2", "--set", "vqa_images=-1"]),
    ("input-values-vlm-train-no-data", "`steervis vlm train --stage 1 --set pool_items=0` (no data left)",
     ["--stage", "1", "--set", "pool_items=0"]),
]


@pytest.mark.parametrize("args", [pytest.param(a, id=n, marks=row(n, t)) for n, t, a in IMPOSSIBLE_RECIPES])
def test_an_impossible_recipe_is_refused_before_any_model_loads(ws, record, args):
    out = ws.root / "impossible-recipe"
    record(refused(ws.steervis("vlm", "train", *args, "--out", out, "--quiet"), absent=out))
