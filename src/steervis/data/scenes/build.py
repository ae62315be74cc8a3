"""Building a split of scenes: cached by content, resumable after a kill, written as tables and as COCO.

A split's folder (``STEERVIS_HOME/data/scenes/<split>``) holds ``images/`` and ``masks/`` (label maps: pixel
value ``k`` = object ``k - 1``), one ``scenes/<index>.json`` per scene (its truth, caption and questions),
``scenes.parquet``, ``objects.parquet`` (one row per pasted object: the split's training manifest),
``questions.parquet``, ``annotations.json`` (COCO: images, boxes, run-length masks, categories, captions),
``counts.json`` and ``build.json``. It is built in ``<folder>.partial-<recipe>`` like the pool: a scene is
done when its JSON exists (written last, atomically), so a killed build resumes with identical scenes.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from steervis.atomic import DAMAGED, set_aside, write_bytes, write_text
from steervis.data.scenes import compose as sc
from steervis.data.scenes.questions import Vocabulary, caption, questions

if TYPE_CHECKING:
    import pandas as pd

    from steervis.data.heldout import HeldOut

# Bump when a scene made from the same objects and seed would come out different (resumes stay identical).
GENERATOR_VERSION = 1
SPLITS = ("train", "test-seen", "test-unseen", "test-styles")
VAL_FRACTION = 0.1  # the last tenth of every split's scenes is its validation part
STYLES = ("photo", "clipart", "cartoon", "sketch")
BUILD_INFO = "build.json"
# zlib level 1, fixed (equal pixels, equal bytes): level 9 took 3/4 of a scene's time for ~10 % smaller files.
PNG_LEVEL = 1


def recipe(split: str, n: int, seed: int, sources: list[str]) -> dict:
    """What a split's scenes are computed from (a changed field is a new build, never a cached answer)."""
    return {"version": GENERATOR_VERSION, "split": split, "n": n, "seed": seed, "canvas": sc.CANVAS,
            "sources": sources}


def recipe_key(request: dict) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:12]


def part_of(index: int, n: int) -> str:
    """``val`` for the last :data:`VAL_FRACTION` of a split's scenes (at least one when n ≥ 2), else
    ``main``."""
    n_val = max(1 if n >= 2 else 0, round(VAL_FRACTION * n))
    return "val" if index >= n - n_val else "main"


def banks_for(split: str, banks: dict[str, pd.DataFrame]) -> list[tuple[str, sc.Bank]]:
    """The (kind, bank) a split's scenes take turns over: test-seen alternates its two parts, test-styles
    its four styles."""
    if split == "train":
        return [("train", sc.Bank(banks["train"]))]
    if split == "test-seen":
        return [("composition", sc.Bank(banks["train"])), ("held-out files", sc.Bank(banks["files"]))]
    if split == "test-unseen":
        return [("unseen", sc.Bank(banks["unseen"]))]
    styles = banks["styles"]
    return [(s, sc.Bank(styles[styles["domain"] == s])) for s in STYLES if (styles["domain"] == s).any()]


def one_scene(index: int, split: str, seed: int, kinds: list[tuple[str, sc.Bank]],
              vocabs: list[Vocabulary], n: int, out: Path, held: HeldOut | None = None) -> dict:
    """Make, write and return scene ``index`` (its JSON last: the scene counts as done once it exists)."""
    from PIL import Image

    turn = index % len(kinds)
    kind, bank = kinds[turn]
    rng = sc.scene_rng(seed, split, index)
    rgb, label, objects = sc.make_scene(rng, bank)
    name = f"{index:06d}"
    for img, folder in ((Image.fromarray(rgb), "images"), (Image.fromarray(label), "masks")):
        buffer = io.BytesIO()
        img.save(buffer, format="PNG", compress_level=PNG_LEVEL)
        write_bytes(out / folder / f"{name}.png", buffer.getvalue())
    scene = {"index": index, "split": split, "part": part_of(index, n), "kind": kind,
             "image": f"images/{name}.png", "mask": f"masks/{name}.png", "width": sc.CANVAS,
             "height": sc.CANVAS, "caption": caption(objects), "objects": objects,
             "questions": questions(objects, vocabs[turn], rng, sc.CANVAS)}
    if held is not None:
        _drop_heldout_words(scene, held)
    write_text(out / "scenes" / f"{name}.json", json.dumps(scene, sort_keys=True))
    return scene


def make_split(out: Path, split: str, n: int, seed: int, banks: dict[str, pd.DataFrame],
               held: HeldOut | None = None, progress: bool = False) -> list[dict]:
    """Every scene of a split into ``out`` (reusing scenes a killed run finished); returns them in order."""
    from tqdm import tqdm

    kinds = banks_for(split, banks)
    vocabs = [Vocabulary.of(b.frame) for _, b in kinds]
    scenes = []
    for index in tqdm(range(n), desc=f"scenes {split}", unit="scene", disable=not progress):
        scene = _finished(out / "scenes" / f"{index:06d}.json")
        if scene is None:
            scene = one_scene(index, split, seed, kinds, vocabs, n, out, held if split == "train" else None)
        scenes.append(scene)
    return scenes


def _finished(path: Path) -> dict | None:
    """A scene an earlier run finished, or None (not made yet, or damaged: set aside and made again)."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except DAMAGED as err:
        set_aside(path, err, "scene")
        return None


def _drop_heldout_words(scene: dict, held: HeldOut) -> None:
    """A training caption or question that names a held-out concept through a colour or number word ("an
    orange cat" when "orange" is held out) is not trained on: the caption loses its colours, the question
    goes."""
    if held.named(scene["caption"]):
        scene["caption"] = caption([{**o, "colour": None} for o in scene["objects"]])
    scene["questions"] = [q for q in scene["questions"]
                          if not held.named(q["question"]) and not held.named(q["answer"])]


def tables(scenes: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(scenes, objects, questions)`` frames, one row per scene / pasted object / question."""
    import pandas as pd

    keep = ("index", "part", "kind", "image", "mask", "caption")
    rows = [{**{k: s[k] for k in keep}, "objects": len(s["objects"]), "questions": len(s["questions"])}
            for s in scenes]
    objs = [{"scene": s["index"], "part": s["part"], "kind": s["kind"], "object": i,
             **{k: v for k, v in o.items() if k not in ("box", "centre")},
             "x": o["box"][0], "y": o["box"][1], "w": o["box"][2], "h": o["box"][3]}
            for s in scenes for i, o in enumerate(s["objects"])]
    qs = [{"scene": s["index"], "part": s["part"], "kind": s["kind"], **q,
           "objects": json.dumps(q["objects"])} for s in scenes for q in s["questions"]]
    return pd.DataFrame(rows), pd.DataFrame(objs), pd.DataFrame(qs)


def counts(scenes: list[dict]) -> dict:
    """Per part and kind: scenes, objects, distinct names, questions per type (existence per POPE setting)
    and scenes per object count."""
    out: dict = {}
    for s in scenes:
        entry = out.setdefault(f"{s['part']}/{s['kind']}", {"scenes": 0, "objects": 0, "names": set(),
                                                          "questions": Counter(),
                                                          "objects_per_scene": Counter()})
        entry["scenes"] += 1
        entry["objects"] += len(s["objects"])
        entry["names"].update(o["name"] for o in s["objects"])
        entry["objects_per_scene"][str(len(s["objects"]))] += 1
        entry["questions"].update(f"{q['type']}/{q['setting']}".rstrip("/") for q in s["questions"])
    return {key: {**e, "names": len(e["names"]), "questions": dict(sorted(e["questions"].items())),
                  "objects_per_scene": dict(sorted(e["objects_per_scene"].items()))}
            for key, e in sorted(out.items())}


def summary_lines(parts: dict) -> str:
    """One line per part and kind of :func:`counts`: scenes, objects, names, questions."""
    return "\n".join(f"{key}: {v['scenes']} scenes, {v['objects']} objects ({v['names']} names), "
                     f"{sum(v['questions'].values())} questions" for key, v in parts.items())
