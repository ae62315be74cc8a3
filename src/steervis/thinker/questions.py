"""Multi-step questions about training scenes, each with its truth, the steps that reach it, its chance rate.

Written from a scenes split's objects table (one row per pasted object), never from pixels, so every truth is
exact. Only the ``train`` split's main part is read: never its validation tenth, never a test split, and a
scene with an object that names a held-out concept (:mod:`steervis.data.heldout`) is skipped whole.

Types (:data:`TYPES`), each with how its answer is checked and the rate a blind guess among its options is
right:

* ``count_among``: "How many X are there?" where another kind is present too (1–5 of at most 6 objects);
* ``more_than``: "Are there more X than Y?" (yes / no; counts that differ, asked both ways);
* ``how_many_more``: "How many more X than Y?" (X > Y ≥ 1, at most 6 objects: 1–4);
* ``left_of`` / ``above``: "Is the X left of / above the Y?" for two objects named once each whose centres
  are at least :data:`~steervis.data.scenes.questions.APART` of the canvas apart on that axis (yes / no);
* ``bigger``: "Which is bigger, the X or the Y?" when one's visible area is at least
  :data:`~steervis.data.scenes.questions.BIGGER` times the other's (two names).

>>> TYPES["bigger"].chance, TYPES["how_many_more"].answer
(0.5, 'number')
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from steervis.classes import names_class
from steervis.data.scenes.compose import CANVAS
from steervis.data.scenes.questions import APART, BIGGER, plural
from steervis.errors import SteervisError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from steervis.data.heldout import HeldOut


class Kind(NamedTuple):
    """How a type's answer is checked (``number``, ``yesno``, ``name``) and a blind guess's rate."""

    answer: str
    chance: float


TYPES = {
    "count_among": Kind("number", 1 / 5),  # X is there and so is another kind: 1–5 of at most 6 objects
    "more_than": Kind("yesno", 1 / 2),
    "how_many_more": Kind("number", 1 / 4),  # X > Y ≥ 1 and X + Y ≤ 6: a difference of 1–4
    "left_of": Kind("yesno", 1 / 2),
    "above": Kind("yesno", 1 / 2),
    "bigger": Kind("name", 1 / 2),
}


def noun(name: str, k: int) -> str:
    """``"1 apple"``, ``"3 apples"``."""
    return f"{k} {name if k == 1 else plural(name)}"


def _q(kind: str, question: str, answer: str | int, steps: list[str], options: list[str] = ()) -> dict:
    return {"type": kind, "question": question, "answer": str(answer), "steps": steps,
            "options": list(options), "chance": TYPES[kind].chance}


def _counts(objects: list[dict], rng: np.random.Generator) -> list[dict]:
    """``count_among``, ``more_than`` and ``how_many_more`` of one scene (one of each at most)."""
    counts = Counter(o["name"] for o in objects)
    if len(counts) < 2:
        return []
    listing = ", ".join(noun(n, k) for n, k in sorted(counts.items()))
    seen = f"The image has {len(objects)} objects: {listing}."
    # names no other name in the scene names (nor is named by): "how many chips" beside a potato chip is moot
    names = [n for n in sorted(counts) if not any(m != n and (names_class(m, n) or names_class(n, m))
                                                  for m in counts)]
    if not names:
        return []
    x = names[int(rng.integers(len(names)))]
    out = [_q("count_among", f"How many {plural(x)} are there?", counts[x],
              [seen, f"Counting only the {plural(x)} gives {counts[x]}."])]
    pairs = [(a, b) for a in names for b in names if a != b and counts[a] != counts[b]]
    if pairs:
        a, b = pairs[int(rng.integers(len(pairs)))]
        more = counts[a] > counts[b]
        out.append(_q("more_than", f"Are there more {plural(a)} than {plural(b)}?", "yes" if more else "no",
                      [seen, f"{counts[a]} is {'more' if more else 'less'} than {counts[b]}, so "
                             f"{'yes' if more else 'no'}."]))
    pairs = [(a, b) for a in names for b in names if counts[a] > counts[b]]
    if pairs:
        a, b = pairs[int(rng.integers(len(pairs)))]
        out.append(_q("how_many_more", f"How many more {plural(a)} than {plural(b)} are there?",
                      counts[a] - counts[b],
                      [seen, f"{counts[a]} - {counts[b]} = {counts[a] - counts[b]}."]))
    return out


def _relations(objects: list[dict], rng: np.random.Generator) -> list[dict]:
    """``left_of``, ``above`` and ``bigger`` of one scene, between objects whose names occur once."""
    counts = Counter(o["name"] for o in objects)
    unique = [o for o in objects if counts[o["name"]] == 1]
    # two names neither of which names the other: "the potato chip" would also name "the chip"
    apart = [(a, b) for a in unique for b in unique if a is not b
             and not names_class(a["name"], b["name"]) and not names_class(b["name"], a["name"])]
    gap = APART * CANVAS
    out = []
    for kind, axis, word in (("left_of", "cx", "left of"), ("above", "cy", "above")):
        pairs = [(a, b) for a, b in apart if abs(a[axis] - b[axis]) >= gap]
        if pairs:
            a, b = pairs[int(rng.integers(len(pairs)))]
            yes = a[axis] < b[axis]  # image x grows rightwards, y downwards
            where = "from the left" if axis == "cx" else "from the top"
            out.append(_q(kind, f"Is the {a['name']} {word} the {b['name']}?", "yes" if yes else "no",
                          [f"The {a['name']}'s centre is {a[axis]:.0f} px {where}, the {b['name']}'s "
                           f"{b[axis]:.0f} px.", f"{a[axis]:.0f} is {'less' if yes else 'more'} than "
                           f"{b[axis]:.0f}, so the {a['name']} is {'' if yes else 'not '}{word} the "
                           f"{b['name']}."]))
    pairs = [(a, b) for a, b in apart if a["area"] >= BIGGER * b["area"]]
    if pairs:
        big, small = pairs[int(rng.integers(len(pairs)))]
        x, y = (big, small) if rng.random() < 0.5 else (small, big)  # bigger one first half the time
        out.append(_q("bigger", f"Which is bigger, the {x['name']} or the {y['name']}?", big["name"],
                      [f"The {big['name']} covers {big['area']} px, the {small['name']} {small['area']} px.",
                       f"{big['area']} is more than {small['area']}, so the {big['name']} is bigger."],
                      [x["name"], y["name"]]))
    return out


def scene_questions(objects: list[dict], rng: np.random.Generator) -> list[dict]:
    """Every question of one scene (each type at most once), objects as dicts with ``name``, ``area`` and the
    box ``x``, ``y``, ``w``, ``h``."""
    objects = [{**o, "cx": o["x"] + o["w"] / 2, "cy": o["y"] + o["h"] / 2} for o in objects]
    return _counts(objects, rng) + _relations(objects, rng)


def qid(scene: int, question: str) -> str:
    """A question's id: the same scene and wording, the same id (what a resumed run skips)."""
    return hashlib.sha256(f"{scene}:{question}".encode()).hexdigest()[:16]


def check_train_split(root: Path) -> None:
    """Refuse a folder that is not a built ``train`` split (a test split must never be trained on)."""
    if not (root / "objects.parquet").is_file():
        raise SteervisError(f"No scenes at {root}: run `steervis data build scenes --split train` first.")
    info = root / "build.json"
    split = json.loads(info.read_text()).get("split") if info.is_file() else "train"
    if split != "train":
        raise SteervisError(f"Reasoning chains are written for the train split only, not {split!r} ({root}).")


def thinker_questions(root: str | Path | None = None, n: int = 0, seed: int = 0,
                      held: HeldOut | None = None, types: tuple[str, ...] = tuple(TYPES)) -> pd.DataFrame:
    """Questions of the ``train`` split's main part, ``n`` drawn in turn over ``types`` (0: all), seeded.

    Args:
        root: The split's folder (default: :func:`steervis.data.scenes.scenes_root` of ``train``).
        n: How many questions (0: every one).
        seed: Seeds each scene's draw and the choice of ``n``.
        held: A held-out list (default: the committed one).
        types: Which of :data:`TYPES`.

    Returns:
        One row a question: ``qid``, ``scene``, ``image`` (absolute path), ``caption`` (the scene's reference
        caption), ``type``, ``question``, ``answer``, ``steps``, ``options``, ``chance``.
    """
    import numpy as np
    import pandas as pd

    from steervis.data.heldout import load_heldout
    from steervis.data.scenes import scenes_root

    unknown = sorted(set(types) - set(TYPES))
    if unknown:
        raise SteervisError(f"Unknown question type {unknown[0]!r}; choose among {', '.join(TYPES)}.")
    root = Path(root or scenes_root("train")).expanduser()
    check_train_split(root)
    held = load_heldout() if held is None else held
    objects = pd.read_parquet(root / "objects.parquet", columns=["scene", "part", "name", "area", "x", "y",
                                                                 "w", "h"])
    scenes = pd.read_parquet(root / "scenes.parquet").set_index("index")
    by_scene: dict[int, list[dict]] = {}
    for o in objects[objects["part"] == "main"].to_dict("records"):
        by_scene.setdefault(int(o["scene"]), []).append(o)
    banned = {n for n in objects["name"].unique() if held.named(str(n))}
    rows = []
    for scene, found in sorted(by_scene.items()):
        # a scene showing a held-out concept is skipped whole; the templates' own words ("than") name none
        if any(o["name"] in banned for o in found):
            continue
        for q in scene_questions(found, np.random.default_rng([seed, scene])):
            if q["type"] in types and held.named(q["answer"]) is None:
                rows.append({"qid": qid(scene, q["question"]), "scene": scene,
                             "image": str(root / scenes.at[scene, "image"]),
                             "caption": str(scenes.at[scene, "caption"]), **q})
    return _draw(pd.DataFrame(rows, columns=COLUMNS), n, seed, types)


COLUMNS = ["qid", "scene", "image", "caption", "type", "question", "answer", "steps", "options", "chance"]


def _draw(frame: pd.DataFrame, n: int, seed: int, types: tuple[str, ...]) -> pd.DataFrame:
    """``n`` rows taken in turn from each type's seeded shuffle (balanced while every type lasts)."""
    import numpy as np

    if not n or n >= len(frame):
        return frame.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    queues = [list(rng.permutation(np.flatnonzero(frame["type"].to_numpy() == t))) for t in types]
    chosen: list[int] = []
    while len(chosen) < n:
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(int(queue.pop(0)))
    return frame.iloc[sorted(chosen)].reset_index(drop=True)
