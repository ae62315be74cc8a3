"""Scenes on a tiny pool: the same scenes every time and after a kill -9, a COCO folder other tools read,
splits that keep test objects away from training ones, and answers an independent checker recomputes from
the saved images and masks."""

from __future__ import annotations

import colorsys
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from tiny_pool import make_tiny_pool

from steervis.data.heldout import HeldOut, near_mask
from steervis.data.manifest import MANIFEST_NAME
from steervis.data.scenes import build_scenes
from steervis.data.scenes import objects as so
from steervis.errors import SteervisError

HELD = ("moon", "kite")
N = 16


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scenes")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEERVIS_HOME", str(tmp / "home"))  # contact sheets go to this test's cache
        pool = make_tiny_pool(tmp / "pool")
        built = {split: build_scenes(split, N, root=tmp / split, pool=pool, heldout=HeldOut(HELD),
                                     progress=False) for split in ("train", "test-seen", "test-unseen")}
        yield tmp, pool, built


def _scenes(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / "scenes").glob("*.json"))]


def _files(root: Path) -> dict[str, bytes]:
    names = ("images", "masks", "scenes")
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for n in names for p in sorted((root / n).iterdir())}


def test_a_second_build_is_identical_and_a_finished_one_is_reused(tiny):
    tmp, pool, built = tiny
    again = build_scenes("train", N, root=tmp / "again", pool=pool, heldout=HeldOut(HELD), progress=False)
    assert _files(again) == _files(built["train"])
    stamp = (built["train"] / "scenes.parquet").stat().st_mtime_ns
    build_scenes("train", N, root=built["train"], pool=pool, heldout=HeldOut(HELD), progress=False)
    assert (built["train"] / "scenes.parquet").stat().st_mtime_ns == stamp  # cached: not rebuilt
    assert (tmp / "home" / "data" / "scenes-contact" / "train.png").is_file()


def test_kill_9_then_resume_gives_the_same_scenes(tiny):
    tmp, pool, built = tiny
    root = tmp / "killed"
    # Each scene is followed by half a second of sleep, so the kill lands half-way even on a busy machine.
    code = ("import time; from steervis.data.scenes import build, build_scenes; "
            "from steervis.data.heldout import HeldOut; make = build.one_scene; "
            "build.one_scene = lambda *a, **k: (make(*a, **k), time.sleep(0.5))[0]; "
            f"build_scenes('train', {N}, root={str(root)!r}, pool={str(pool)!r}, heldout=HeldOut({HELD!r}), "
            "progress=False)")
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.time() + 120
    done: list[Path] = []
    while time.time() < deadline and proc.poll() is None and len(done) < 4:
        done = list(tmp.glob("killed.partial-*/scenes/*.json"))
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 4 <= len(done) < N, "the build was not caught half-way"
    first = sorted(done)[0]
    stamp = first.stat().st_mtime_ns
    build_scenes("train", N, root=root, pool=pool, heldout=HeldOut(HELD), progress=False)
    assert (root / "scenes" / first.name).stat().st_mtime_ns == stamp  # reused, not redone
    assert _files(root) == _files(built["train"])


def test_splits_keep_test_objects_apart_from_training_objects(tiny):
    tmp, pool, built = tiny
    banks = so.split_banks(pd.read_parquet(pool / MANIFEST_NAME), HeldOut(HELD))
    assert set(banks["unseen"]["name"]) == set(HELD) and not set(banks["train"]["name"]) & set(HELD)
    assert len(banks["files"]) and not set(banks["files"]["sha256"]) & set(banks["train"]["sha256"])
    for part in ("files", "unseen"):
        assert not near_mask(banks[part], banks["train"]).any(), part
    kinds = pd.read_parquet(built["test-seen"] / "scenes.parquet").groupby("kind")["part"].agg(set)
    assert set(kinds.index) == {"composition", "held-out files"} and "val" in set.union(*kinds)
    unseen = pd.read_parquet(built["test-unseen"] / "objects.parquet")
    assert set(unseen["name"]) <= set(HELD)


def test_counts_and_answers_cover_every_type_in_one_word(tiny):
    _, _, built = tiny
    qs = pd.concat([pd.read_parquet(r / "questions.parquet") for r in built.values()])
    assert {"count", "count_name", "colour", "left_of", "exists"} <= set(qs["type"])
    assert set(qs[qs["type"] == "exists"]["setting"]) == {"random", "popular", "adversarial"}
    assert all(re.fullmatch(r"[a-z]+|\d", a) for a in qs["answer"])
    per_scene = pd.concat([pd.read_parquet(r / "scenes.parquet") for r in built.values()])["objects"]
    assert set(per_scene) == set(range(1, 7))


def _rle_decode(seg: dict) -> np.ndarray:
    h, w = seg["size"]
    flat = np.zeros(h * w, dtype=bool)
    pos, value = 0, False
    for run in seg["counts"]:
        flat[pos: pos + run] = value
        pos, value = pos + run, not value
    return flat.reshape((h, w), order="F")


def test_coco_export_matches_the_masks(tiny):
    _, _, built = tiny
    root = built["test-seen"]
    coco = json.loads((root / "annotations.json").read_text())
    categories = {c["id"] for c in coco["categories"]}
    images = {i["id"]: i for i in coco["images"]}
    assert len(images) == N and all((root / i["file_name"]).is_file() for i in images.values())
    for ann in coco["annotations"]:
        image = images[ann["image_id"]]
        label = np.asarray(Image.open(root / image["file_name"].replace("images/", "masks/")))
        mask = _rle_decode(ann["segmentation"])
        x, y, w, h = ann["bbox"]
        ys, xs = np.nonzero(mask)
        assert ann["category_id"] in categories and mask.sum() == ann["area"]
        assert (xs.min(), ys.min(), xs.max() + 1 - x, ys.max() + 1 - y) == (x, y, w, h)
        assert len(np.unique(label[mask])) == 1  # one object's pixels
    try:
        from pycocotools.coco import COCO
    except ImportError:
        return
    api = COCO(str(root / "annotations.json"))
    assert len(api.getAnnIds()) == len(coco["annotations"])


# An independent checker: answers recomputed from the saved image, label map and object names only.


def _colour(pixels: np.ndarray) -> str | None:
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    hsv = np.array([colorsys.rgb_to_hsv(*(c / 255)) for c in colours])
    chroma = (hsv[:, 1] >= so.CHROMA_S) & (hsv[:, 2] >= so.CHROMA_V)
    if counts[chroma].sum() < so.MIN_CHROMATIC * counts.sum():
        return "black" if counts[hsv[:, 2] < so.DARK_V].sum() >= so.MIN_DARK * counts.sum() else None
    votes: dict[str, int] = {}
    for (h, s, v), n in zip(hsv[chroma], counts[chroma], strict=True):
        deg = h * 360
        word = next(w for w, (lo, hi) in so.HUES.items()
                    if (lo <= deg < hi if lo < hi else deg >= lo or deg < hi))
        if so.BROWN_HUES[0] <= deg < so.BROWN_HUES[1] and (v < so.BROWN_V or s < so.BROWN_S):
            word = "brown"
        votes[word] = votes.get(word, 0) + int(n)
    ranked = sorted(votes.items(), key=lambda kv: -kv[1]) + [("", 0)]
    top, second = ranked[0][1], ranked[1][1]
    ok = top >= so.MIN_TOP * counts[chroma].sum() and top >= so.MIN_MARGIN * second
    return ranked[0][0] if ok else None


def recompute(root: Path, scene: dict, question: str) -> str:
    label = np.asarray(Image.open(root / scene["mask"]))
    rgb = np.asarray(Image.open(root / scene["image"]).convert("RGB"))
    names = [o["name"] for o in scene["objects"]]
    ids = [k for k in np.unique(label) if k]
    area = {k - 1: int((label == k).sum()) for k in ids}
    centre = {}
    for k in ids:
        ys, xs = np.nonzero(label == k)
        centre[k - 1] = ((xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2)
    gap = 0.1 * label.shape[0]

    def one(name: str) -> int:
        (index,) = [i for i, n in enumerate(names) if n == name]
        return index

    if question == "How many objects are there?":
        return str(len(ids))
    if m := re.fullmatch(r"How many (.+) are there\?", question):
        return str(sum(m.group(1) in (n + "s", n + "es", n[:-1] + "ies", n) for n in names))
    if m := re.fullmatch(r"What colour is the (.+)\?", question):
        return str(_colour(rgb[label == one(m.group(1)) + 1]))
    if m := re.fullmatch(r"Is the (.+) left of the (.+)\?", question):
        a, b = one(m.group(1)), one(m.group(2))
        assert abs(centre[a][0] - centre[b][0]) >= gap
        return "yes" if centre[a][0] < centre[b][0] else "no"
    if m := re.fullmatch(r"What is above the (.+)\?", question):
        x = one(m.group(1))
        dy = {i: centre[x][1] - c[1] for i, c in centre.items() if i != x}
        assert all(abs(d) >= gap for d in dy.values())
        (above,) = [i for i, d in dy.items() if d >= gap]
        return names[above]
    if question == "Which object is the biggest?":
        first, second = sorted(area, key=lambda i: -area[i])[:2]
        assert area[first] >= 1.5 * area[second] and names.count(names[first]) == 1
        return names[first]
    m = re.fullmatch(r"Is there an? (.+) in the image\?", question)
    return "yes" if m.group(1) in names else "no"


def test_an_independent_check_agrees_on_200_sampled_questions(tiny):
    _, _, built = tiny
    asked = [(root, s, q) for root in built.values() for s in _scenes(root) for q in s["questions"]]
    rng = np.random.default_rng(0)
    sample = [asked[i] for i in rng.choice(len(asked), min(200, len(asked)), replace=False)]
    assert len(sample) == 200
    wrong = [(q["question"], q["answer"], recompute(root, s, q["question"])) for root, s, q in sample
             if recompute(root, s, q["question"]) != q["answer"]]
    assert wrong == []


def test_bad_requests_are_one_sentence(tiny, tmp_path):
    with pytest.raises(SteervisError, match="steervis data build minidomains"):
        build_scenes("test-styles", 4, root=tmp_path / "s", minidomains=tmp_path / "none", progress=False)
    with pytest.raises(SteervisError, match="Unknown scene split 'val'; choose one of train, test-seen"):
        build_scenes("val", 4, root=tmp_path / "s", progress=False)
    with pytest.raises(SteervisError, match="No held-out concept list"):
        build_scenes("train", 4, root=tmp_path / "s", pool=tiny[1], heldout=HeldOut([]), progress=False)


def test_cli_builds_test_styles_one_style_per_scene(tmp_home, minidomains_root, tmp_path, capsys):
    from steervis.cli import main

    (tmp_home / "data").mkdir(parents=True)
    (tmp_home / "data" / "minidomains").symlink_to(minidomains_root)  # read only: the default location
    out = tmp_path / "styles"
    assert main(["data", "build", "scenes", "--split", "test-styles", "--n", "8", "--root", str(out)]) == 0
    scenes = _scenes(out)
    assert [s["kind"] for s in scenes] == ["photo", "clipart", "cartoon", "sketch"] * 2
    frame = pd.read_parquet(minidomains_root / MANIFEST_NAME)
    for s in scenes:
        assert {o["source"].split("/")[0] for o in s["objects"]} == {s["kind"]}
        assert {o["source"] for o in s["objects"]} <= set(frame["path"])
    assert main(["data", "build", "scenes", "--split", "test-styles", "--n", "8", "--root", str(out)]) == 0
    assert "already built" in capsys.readouterr().out
    assert (tmp_home / "data" / "scenes-contact" / "styles.png").is_file()


@pytest.mark.slow  # the real pool and minidomains: a few seconds of hashing
def test_real_test_objects_are_never_near_a_training_object(minidomains_root):
    from steervis.data.heldout import load_heldout

    pool = minidomains_root.parent / "pool"  # beside minidomains in the cache `steervis setup` fills
    held = load_heldout()
    if not (pool / MANIFEST_NAME).is_file() or not len(held):
        pytest.skip("needs the built pool and the committed held-out list")
    banks = so.split_banks(pd.read_parquet(pool / MANIFEST_NAME), held)
    styles = so.styles_bank(minidomains_root)
    assert not set(banks["train"]["name"]) & set(held.names)
    for name, part in (("held-out files", banks["files"]), ("unseen", banks["unseen"]), ("styles", styles)):
        assert not near_mask(part, banks["train"]).any(), name


def test_an_image_without_ink_is_left_out_not_fatal(tmp_path, tmp_home):
    pool = make_tiny_pool(tmp_path / "pool", per_name=1)
    blank = sorted((pool / "openclipart").rglob("*.png"))[0]
    Image.new("RGB", (64, 64), "white").save(blank)  # white on white: nothing to cut out
    root = build_scenes("train", 16, root=tmp_path / "t", pool=pool, heldout=HeldOut(HELD), progress=False)
    sources = set(pd.read_parquet(root / "objects.parquet")["source"])
    assert sources and blank.relative_to(pool).as_posix() not in sources


def test_a_damaged_scene_file_is_set_aside_and_made_again(tiny):
    from steervis.data.scenes import request_of
    from steervis.data.scenes.build import recipe_key

    tmp, pool, built = tiny
    root = tmp / "damaged"
    key = recipe_key(request_of("train", N, pool=pool, heldout=HeldOut(HELD)))
    staging = root.with_name(f"damaged.partial-{key}")  # what a killed build of this recipe leaves
    shutil.copytree(built["train"] / "scenes", staging / "scenes")
    shutil.copytree(built["train"] / "images", staging / "images")
    shutil.copytree(built["train"] / "masks", staging / "masks")
    (staging / "scenes" / "000002.json").write_text('{"index": 2, "obj')  # torn, as a full disk might leave
    build_scenes("train", N, root=root, pool=pool, heldout=HeldOut(HELD), progress=False)
    assert (root / "scenes" / "000002.json.corrupt").is_file()
    (root / "scenes" / "000002.json.corrupt").unlink()
    assert _files(root) == _files(built["train"])


def test_llava_reads_training_scenes_never_their_validation_tenth(tiny):
    train = tiny[2]["train"]
    from steervis.llava.data import scene_items

    scenes = pd.read_parquet(train / "scenes.parquet")
    val_images = {str(train / p) for p in scenes.loc[scenes["part"] == "val", "image"]}
    captions = scene_items(100, "caption", root=train)
    questions = scene_items(1000, "questions", "Answer briefly.", root=train)
    assert captions and questions and not {it.path for it in captions + questions} & val_images
    assert {it.turns[0][1] for it in captions} <= set(scenes["caption"])
    assert all(len(it.turns) == 1 and it.turns[0][0].startswith("<image>\n") for it in questions)
    assert all(it.turns[0][0].endswith("\nAnswer briefly.") for it in questions)


class _Stub:
    """A hub-like VLM answering from a table: (image path, question) -> answer."""

    def __init__(self, answer):
        self.config, self.answer = type("C", (), {"hub": True})(), answer

    def ask(self, images, questions, **_):
        return [self.answer(path, q.splitlines()[0]) for path, q in zip(images, questions, strict=True)]


def test_scenes_are_scored_per_type_and_pope_per_setting(tiny):
    from steervis.llava.scenes_eval import scene_rows, scenes_accuracy

    root = tiny[2]["test-unseen"]
    rows = scene_rows("test-unseen", "main", root=root)
    truth = {(p, q): a for p, q, a in zip(rows["path"], rows["question"], rows["answer"], strict=True)}
    oracle = scenes_accuracy(_Stub(lambda p, q: truth[(p, q)].capitalize() + "."), "test-unseen", "main",
                             root=root)
    assert oracle["accuracy"] == 1 and oracle["questions"] == len(rows)
    assert set(oracle["by_type"]) == set(rows["type"]) and oracle["pope"]
    assert all(m["f1"][0] == 1 and m["yes_ratio"][0] == 0.5 for m in oracle["pope"].values())
    agreeable = scenes_accuracy(_Stub(lambda p, q: "yes"), "test-unseen", "main", root=root)
    for m in agreeable["pope"].values():  # always yes: half right, every present object recalled
        assert m["accuracy"][0] == 0.5 and m["recall"][0] == 1 and m["yes_ratio"][0] == 1
        assert m["accuracy"][1] <= 0.5 <= m["accuracy"][2]
    with pytest.raises(SteervisError, match="part must be val"):
        scene_rows("test-unseen", "test", root=root)

