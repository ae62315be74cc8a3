"""``steervis ground``, ``ground train`` and ``ground eval`` with the tiny GLIP-style grounder (a random
16-channel trunk, a one-layer random BERT) on toy COCO folders of coloured squares: a bad prompt, image or
annotations file is one sentence; an image without the prompted things is an empty list; broken boxes are
dropped and counted; a killed training resumes to the head an uninterrupted run saves, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from workspace import Outcome, Workspace, kill_at, refused, resumed, row, same_tensors, seen_line

pytestmark = pytest.mark.slow

# The tiny grounder of tests/ground: a 128 px square read at stride 16 (8×8 locations), 32-wide head.
TINY = [x for s in ("model.trunk=tiny", "model.stride=16", "model.size=128", "model.text=tiny-bert",
                    "model.hidden=32", "device=cpu") for x in ("--set", s)]
# Enough for the tiny head to find the toy squares (a few seconds): steps, batch, rate, few negatives.
LEARN = [x for s in ("part=all", "train.max_steps=80", "train.batch_size=4", "train.lr=0.01",
                     "train.negatives=2", "train.warmup=0") for x in ("--set", s)]
COLOURS = {"red": (220, 30, 30), "green": (30, 170, 40), "blue": (30, 60, 220)}
LAYOUTS = [[("red", 8, 8, 40), ("blue", 70, 60, 48)], [("green", 60, 10, 50), ("red", 10, 70, 44)],
           [("blue", 12, 14, 46), ("green", 72, 72, 40)],
           [("red", 66, 8, 44), ("green", 8, 62, 48), ("blue", 78, 78, 36)]]
# Boxes that cannot be boxes: no width, text for numbers, NaN, off the 128 px image, a list as image id.
BROKEN = [(1, 1, [10, 10, 0, 20]), (1, 1, ["10", "10", "20", "20"]), (2, 2, [1, 1, float("nan"), 5]),
          (2, 3, [500, 500, 20, 20]), ([1], 1, [1, 1, 5, 5])]


def toy_coco(folder: Path, broken: bool = False) -> Path:
    """Four 128 px images of coloured squares on white and their ``annotations.json`` (category = colour),
    with the :data:`BROKEN` boxes added when ``broken``."""
    from PIL import Image, ImageDraw

    if (folder / "annotations.json").exists():
        return folder
    (folder / "images").mkdir(parents=True)
    cats = {name: i + 1 for i, name in enumerate(COLOURS)}
    images, anns = [], []
    for k, layout in enumerate(LAYOUTS):
        img = Image.new("RGB", (128, 128), "white")
        for colour, x, y, side in layout:
            ImageDraw.Draw(img).rectangle([x, y, x + side - 1, y + side - 1], fill=COLOURS[colour])
            anns.append({"image_id": k + 1, "category_id": cats[colour], "bbox": [x, y, side, side]})
        img.save(folder / "images" / f"{k}.png")
        images.append({"id": k + 1, "file_name": f"images/{k}.png", "width": 128, "height": 128})
    anns += [{"image_id": i, "category_id": c, "bbox": b} for i, c, b in BROKEN] if broken else []
    for k, ann in enumerate(anns):
        ann["id"] = k + 1
    categories = [{"id": i, "name": n} for n, i in cats.items()]
    data = {"images": images, "annotations": anns, "categories": categories}
    (folder / "annotations.json").write_text(json.dumps(data))
    return folder


@pytest.fixture(scope="module")
def grounder(ws: Workspace) -> Path:
    """A tiny grounder trained on the toy squares, shared by the rows that need one that finds them."""
    out = ws.root / "glip"
    if not (out / "model.safetensors").exists():
        done = ws.steervis("ground", "train", "--set", f"coco={toy_coco(ws.root / 'squares')}", *LEARN, *TINY,
                           "--out", out, "--quiet")
        assert done.returncode == 0, f"the tiny grounder was not trained: {seen_line(done)}"
    return out


def printed(proc: Any) -> dict:
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {}


def boxes_line(proc: Any) -> str:
    """What ``steervis ground`` printed (its detections.json), as one line: which images got boxes (how many
    is left out: a score near the threshold may differ between machines)."""
    found = printed(proc).get("images") or []
    counts = ", ".join(f"{'boxes' if i['detections'] else 'no box'} in {Path(i['image']).name}"
                       for i in found)
    return f"(stdout) {counts}; detections.json written" if found else seen_line(proc)


def ground(ws: Workspace, images: list[Path], prompt: str, grounder: Any, out: str) -> Any:
    return ws.steervis("ground", *[x for i in images for x in ("--image", i)], "--prompt", prompt,
                       "--grounder", grounder, "--set", "device=cpu", "--out", ws.root / out)


@row("input-ground-empty-prompt", "`steervis ground --prompt \"\"` (an empty prompt)")
def test_an_empty_prompt_is_refused(ws, record):
    scene = toy_coco(ws.root / "squares") / "images" / "0.png"
    record(refused(ground(ws, [scene], "", "tiny-glip", "out-empty"), absent=ws.root / "out-empty"))


@row("input-ground-500-phrases",
     "`steervis ground` with a prompt of 500 phrases (the toy colours and 497 others)")
def test_a_prompt_of_500_phrases_is_read_in_chunks(ws, record, grounder):
    scene = toy_coco(ws.root / "squares") / "images" / "0.png"
    prompt = ". ".join(["red", "green", "blue", *(f"thing {k}" for k in range(497))]) + "."
    proc = ground(ws, [scene], prompt, grounder, "out-500")
    found = {d["phrase"] for i in printed(proc).get("images", []) for d in i["detections"]}
    record(Outcome(boxes_line(proc), proc.returncode, "read in chunks of 16; the scene's red and blue found",
                   proc.returncode == 0 and {"red", "blue"} <= found))


@row("input-ground-absent", "`steervis ground` on a blank white image (beside a toy scene), a grounder "
     "trained on the toy squares")
def test_an_image_without_the_prompted_things_is_an_empty_list(ws, record, grounder):
    from PIL import Image

    blank, scene = ws.root / "blank.png", toy_coco(ws.root / "squares") / "images" / "0.png"
    Image.new("RGB", (128, 128), "white").save(blank)
    proc = ground(ws, [scene, blank], "red. green. blue.", grounder, "out-absent")
    counts = [len(i["detections"]) for i in printed(proc).get("images", [])]
    ok = proc.returncode == 0 and len(counts) == 2 and counts[0] > 0 and counts[1] == 0
    record(Outcome(boxes_line(proc), proc.returncode, "an empty list for the blank image, not an error", ok))


@row("input-ground-huge-image", "`steervis ground` on an image of 12000×9000 pixels")
def test_a_huge_image_is_refused(ws, record):
    from PIL import Image

    huge = ws.root / "huge.png"
    if not huge.exists():
        Image.new("RGB", (12000, 9000), "white").save(huge)  # 108 million pixels, 0.3 MB on disk
    record(refused(ground(ws, [huge], "a dog.", "tiny-glip", "out-huge"), absent=ws.root / "out-huge"))


@pytest.mark.parametrize("verb", [
    pytest.param("train", marks=row("input-ground-train-broken-boxes", "`steervis ground train` on a COCO "
                                    "file with 5 broken boxes (no width, text, NaN, off the image, a list as "
                                    "image id)")),
    pytest.param("eval", marks=row("input-ground-eval-broken-boxes", "`steervis ground eval` on a COCO file "
                                   "with 5 broken boxes (no width, text, NaN, off the image, a list as image "
                                   "id)"))])
def test_broken_boxes_are_dropped_and_counted(ws, record, verb):
    data = toy_coco(ws.root / "squares-broken", broken=True)
    if verb == "train":
        proc = ws.steervis("ground", "train", "--set", f"coco={data}", "--set", "part=all", "--set",
                           "train.max_steps=3", *TINY, "--out", ws.root / "glip-broken", "--quiet")
    else:
        proc = ws.steervis("ground", "eval", "--coco", data, "--part", "all", "--grounder", "tiny-glip",
                           "--set", "device=cpu", "--bootstrap", "0", "--quiet")
    said = printed(proc)
    seen = (f"(stdout) {said.get('steps', said.get('phrases'))} {'steps' if verb == 'train' else 'phrases'} "
            f"on {said.get('images')} images, dropped_boxes {said.get('dropped_boxes')}" if said
            else seen_line(proc))
    ok = proc.returncode == 0 and said.get("dropped_boxes") == len(BROKEN) and said.get("images") == 4
    done = "trained on the usable boxes" if verb == "train" else "measured on the usable boxes"
    record(Outcome(seen, proc.returncode, f"{done}; the {len(BROKEN)} broken ones dropped and counted", ok))


@pytest.mark.parametrize("verb", [
    pytest.param("train", marks=row("input-ground-train-not-coco", "`steervis ground train` on a folder "
                                    "whose annotations.json is a list, not COCO")),
    pytest.param("eval", marks=row("input-ground-eval-not-coco", "`steervis ground eval` on a folder "
                                   "whose annotations.json is a list, not COCO"))])
def test_a_file_that_is_not_coco_is_refused(ws, record, verb):
    folder = ws.root / "not-coco"
    folder.mkdir(exist_ok=True)
    (folder / "annotations.json").write_text(json.dumps([{"file_name": "a.png", "boxes": [[0, 0, 5, 5]]}]))
    out = ws.root / f"not-coco-{verb}"
    if verb == "train":
        proc = ws.steervis("ground", "train", "--set", f"coco={folder}", *TINY, "--out", out, "--quiet")
    else:
        proc = ws.steervis("ground", "eval", "--coco", folder, "--grounder", "tiny-glip", "--set",
                           "device=cpu", "--out", f"{out}.json", "--quiet")
        out = Path(f"{out}.json")
    record(refused(proc, absent=out))


@row("kill-ground-train", "kill -9 `steervis ground train` (tiny grounder) after its first checkpoint",
     group="kill -9")
def test_a_killed_ground_training_resumes_bit_for_bit(ws, record):
    from steervis.ground.train import CHECKPOINT
    from steervis.lm.checkpoint import CHECKPOINT_FILE

    def args(w: Workspace) -> list:  # 100 steps of ~40 ms, a checkpoint every 5: the kill lands mid-run
        return ["ground", "train", "--set", f"coco={toy_coco(w.root / 'squares')}", "--set", "part=all",
                "--set", "train.max_steps=100", "--set", "train.batch_size=2", "--set",
                "train.checkpoint_every=5", *TINY, "--out", w.root / "glip", "--quiet"]

    sub, clean = ws.fresh("kill-ground"), ws.fresh("kill-ground-clean")
    killed, rerun = kill_at(sub, args(sub), (sub.root / "glip" / CHECKPOINT / CHECKPOINT_FILE).exists)
    clean.steervis(*args(clean))
    equal = rerun.returncode == 0 and same_tensors(sub.root / "glip", clean.root / "glip")
    outcome = resumed(killed, rerun, equal, "head weights")
    said = printed(rerun)
    if said:
        outcome.seen = (outcome.seen.split(": ", 1)[0] + ": (stdout) resumed at step "
                        f"{said.get('resumed_from')}, ran to step {said.get('steps')}, "
                        f"saved to {said.get('out')}")
    record(outcome.also(bool(said.get("resumed_from")), "", " (BUT THE RERUN STARTED AT STEP 0)"))
