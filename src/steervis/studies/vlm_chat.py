"""A VLM in conversation about scenes it has never seen: three scripted turns per scene, scored against the
scene's truth.

    steervis study vlm-chat --set model=stage2 --set scenes=20

Each of ``scenes`` seeded scenes of a split's ``main`` part (default ``test-unseen``: every object a held-out
concept) gets one conversation, each turn answered with the model's own earlier answers as history:

1. "What objects are in the image?": the share of the scene's distinct names the answer names;
2. "What colour is the X?" about an object whose colour the scene knows: right when the answer names it;
3. "What is left of the X?" about an object with exactly one object left of it (centres apart by the scenes'
   position margin, every other object clearly left or right): right when the answer names that object and
   no other object but X.

Names are matched as whole words (:func:`steervis.classes.names_class`). The first conversation is kept
whole for the reader (the first of the seeded order, not a chosen one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from steervis.classes import names_class
from steervis.data.scenes.questions import APART
from steervis.errors import SteervisError
from steervis.stats import accuracy_ci

TURNS = ("What objects are in the image?", "What colour is the {x}?", "What is left of the {x}?")
CANVAS = 320  # the scenes' canvas side unless the split's build.json says otherwise


def left_target(objects: list[dict], gap: float) -> tuple[int, int] | None:
    """``(x, left)``: the first object named once whose only left neighbour is clear (all others ≥ ``gap``
    from it horizontally), or ``None``.

    >>> objs = [{"name": "cat", "cx": 50}, {"name": "dog", "cx": 200}, {"name": "owl", "cx": 300}]
    >>> left_target(objs, 32)
    (1, 0)
    """
    names = [o["name"] for o in objects]
    for x, obj in enumerate(objects):
        if names.count(obj["name"]) != 1:
            continue
        dx = {i: obj["cx"] - o["cx"] for i, o in enumerate(objects) if i != x}
        left = [i for i, d in dx.items() if d >= gap]
        if len(left) == 1 and names.count(names[left[0]]) == 1 and all(abs(d) >= gap for d in dx.values()):
            return x, left[0]
    return None


def scripts(root: Path, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` seeded ``main``-part scenes that allow all three turns, each with its questions and truths."""
    import pandas as pd

    build = root / "build.json"
    canvas = json.loads(build.read_text()).get("canvas", CANVAS) if build.exists() else CANVAS
    scenes = pd.read_parquet(root / "scenes.parquet").set_index("index")
    objects = pd.read_parquet(root / "objects.parquet")
    objects = objects[objects["part"] == "main"].assign(cx=lambda f: f["x"] + f["w"] / 2)
    out = []
    for scene in np.random.default_rng(seed).permutation(sorted(objects["scene"].unique())):
        objs = objects[objects["scene"] == scene].sort_values("object").to_dict("records")
        names = [o["name"] for o in objs]
        coloured = [o for o in objs if isinstance(o["colour"], str) and names.count(o["name"]) == 1]
        target = left_target(objs, APART * canvas)  # the scenes' own position margin
        if not coloured or target is None:
            continue
        x, left = target
        out.append({"scene": int(scene), "image": str(root / scenes.at[scene, "image"]),
                    "names": sorted(set(names)), "colour_of": coloured[0]["name"],
                    "colour": coloured[0]["colour"], "left_of": names[x], "left": names[left]})
        if len(out) == n:
            break
    return out


def score_turns(script: dict[str, Any], answers: list[str]) -> dict[str, Any]:
    """Turn 1's name recall, turns 2 and 3 right or wrong, from a conversation's three answers."""
    named = [n for n in script["names"] if names_class(answers[0], n)]
    others = [n for n in script["names"] if n not in (script["left"], script["left_of"])]
    return {"objects_recall": len(named) / len(script["names"]),
            "colour": names_class(answers[1], script["colour"]),
            "left_of": names_class(answers[2], script["left"])
            and not any(names_class(answers[2], n) for n in others)}


def vlm_chat(model: str = "stage2", split: str = "test-unseen", scenes: int = 20, seed: int = 0,
             max_new_tokens: int = 64) -> dict[str, Any]:
    """``steervis study vlm-chat``: three scripted turns on ``scenes`` seeded scenes, scored per turn."""
    from steervis.data.scenes import built_root
    from steervis.llava.vlms import open_vlm

    root = built_root(split)
    chosen = scripts(root, scenes, seed)
    if not chosen:
        raise SteervisError(f"No {split} scene has a coloured object and a clear left neighbour.")
    return {"model": model, "split": split, **converse(open_vlm(model), chosen, max_new_tokens)}


def converse(vlm: Any, chosen: list[dict[str, Any]], max_new_tokens: int = 64) -> dict[str, Any]:
    """One conversation per script (each answer joins the history of the next turn), scored per turn."""
    conversations = []
    for script in chosen:
        history: list[tuple[str, str]] = []
        questions = [TURNS[0], TURNS[1].format(x=script["colour_of"]), TURNS[2].format(x=script["left_of"])]
        for question in questions:
            history.append((question, vlm.chat(question, script["image"], history=list(history),
                                               max_new_tokens=max_new_tokens)))
        conversations.append({**script, "turns": history,
                              **score_turns(script, [a for _, a in history])})
    recall = np.array([c["objects_recall"] for c in conversations])
    out: dict[str, Any] = {"scenes": len(conversations), "objects_recall": round(float(recall.mean()), 4),
                           "all_objects_named": _rate([r == 1.0 for r in recall])}
    for turn in ("colour", "left_of"):
        out[turn] = _rate([c[turn] for c in conversations])
    return {**out, "first": conversations[0], "conversations": conversations}


def _rate(right: list[bool]) -> dict[str, Any]:
    mean, low, high = accuracy_ci(np.array(right, dtype=float))
    return {"accuracy": round(mean, 4), "ci95": [round(low, 4), round(high, 4)], "n": len(right)}
