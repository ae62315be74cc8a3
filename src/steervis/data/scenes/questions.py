"""A scene's reference caption and its questions, written from the truth only where the answer is unambiguous.

Answers are one word or a number. Counting: all objects, and each name. Colour: only an object whose colour
is known (a tint, or the ink rule) and whose name is the only one of its kind. Position: "is the X left of
the Y" when the centres are ≥ :data:`APART` of the canvas apart across; "what is above the X" when exactly
one object's centre is that far above and every other object is that far from X's height. Size: "which
object is the biggest" when its visible area is ≥ :data:`BIGGER` × the next and its name is unique.
Existence in POPE's three settings, a yes and a no each: the absent name drawn at random, among the split's
most frequent names (popular), or among names sharing a category with a present object (adversarial).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from steervis.classes import plurals
from steervis.data.heldout import PLURAL_ONLY
from steervis.data.pool.text import with_article

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

APART = 0.1  # centres this fraction of the canvas apart: nobody would call it "about level"
BIGGER = 1.5  # "the biggest" only when it is this many times the next one's visible area
NUMBERS = ("zero", "one", "two", "three", "four", "five", "six")
POPULAR_TOP = 10  # POPE's popular setting draws among this many most frequent absent names
PER_SCENE = {"count_name": 2, "colour": 2, "left_of": 2}  # caps, so one crowded scene does not dominate


@dataclass
class Vocabulary:
    """A split's names: how often each occurs among its objects, and which share a category."""

    frequency: Counter
    by_category: dict[str, set[str]] = field(default_factory=dict)
    categories: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Vocabulary:
        vocab = cls(Counter(frame["name"]))
        for name, cat in zip(frame["name"], frame["category"], strict=True):
            if cat:
                vocab.by_category.setdefault(cat, set()).add(name)
                vocab.categories.setdefault(name, set()).add(cat)
        return vocab

    @property
    def ranked(self) -> list[str]:
        return sorted(self.frequency, key=lambda n: (-self.frequency[n], n))


def plural(name: str) -> str:
    """``"apples"``, ``"boxes"``, ``"mice"``; ``"scissors"`` stays."""
    words = name.split()
    last = words[-1] if words[-1] in PLURAL_ONLY else plurals(words[-1])[-1]
    return " ".join([*words[:-1], last])


def caption(objects: list[dict]) -> str:
    """"two red apples, a dog and a moon.": each (name, colour) group once, in order of first appearance."""
    groups = Counter((o["name"], o["colour"]) for o in objects)
    parts = []
    for (name, colour), n in groups.items():
        noun = f"{colour} {name}" if colour else name
        parts.append(with_article(noun) if n == 1 else f"{NUMBERS[n]} {plural(noun)}")
    if not parts:
        return "an empty scene."
    return (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]) + "."


def _q(kind: str, question: str, answer: str | int, objects: list[int], setting: str = "") -> dict:
    return {"type": kind, "question": question, "answer": str(answer), "objects": objects,
            "setting": setting}


def questions(objects: list[dict], vocab: Vocabulary, rng: np.random.Generator,
              canvas: int) -> list[dict]:
    """Every question of one scene, in a fixed order (types in turn), each with its answer."""
    names = Counter(o["name"] for o in objects)
    unique = [i for i, o in enumerate(objects) if names[o["name"]] == 1]
    out = [_q("count", "How many objects are there?", len(objects), list(range(len(objects))))]
    for name in sorted(names)[: PER_SCENE["count_name"]]:
        idx = [i for i, o in enumerate(objects) if o["name"] == name]
        out.append(_q("count_name", f"How many {plural(name)} are there?", len(idx), idx))
    coloured = [i for i in unique if objects[i]["colour"]][: PER_SCENE["colour"]]
    out += [_q("colour", f"What colour is the {objects[i]['name']}?", objects[i]["colour"], [i])
            for i in coloured]
    out += _positions(objects, unique, canvas, rng)
    out += _biggest(objects, names)
    return out + _existence(objects, vocab, rng)


def _positions(objects: list[dict], unique: list[int], canvas: int, rng: np.random.Generator) -> list[dict]:
    out = []
    gap = APART * canvas
    pairs = [(a, b) for a in unique for b in unique
             if a < b and abs(objects[a]["centre"][0] - objects[b]["centre"][0]) >= gap]
    for a, b in [pairs[i] for i in sorted(rng.permutation(len(pairs))[: PER_SCENE["left_of"]])]:
        a, b = (a, b) if rng.random() < 0.5 else (b, a)  # half the questions are asked the other way
        left = objects[a]["centre"][0] < objects[b]["centre"][0]
        out.append(_q("left_of", f"Is the {objects[a]['name']} left of the {objects[b]['name']}?",
                      "yes" if left else "no", [a, b]))
    for x in unique:
        dy = {i: objects[x]["centre"][1] - o["centre"][1] for i, o in enumerate(objects) if i != x}
        above = [i for i, d in dy.items() if d >= gap]  # image y grows downwards
        if len(above) == 1 and all(abs(d) >= gap for d in dy.values()):
            out.append(_q("above", f"What is above the {objects[x]['name']}?", objects[above[0]]["name"],
                          [x, above[0]]))
            break  # one per scene
    return out


def _biggest(objects: list[dict], names: Counter) -> list[dict]:
    if len(objects) < 2:
        return []
    order = sorted(range(len(objects)), key=lambda i: -objects[i]["area"])
    top, nxt = objects[order[0]], objects[order[1]]
    if top["area"] >= BIGGER * nxt["area"] and names[top["name"]] == 1:
        return [_q("biggest", "Which object is the biggest?", top["name"], order[:2])]
    return []


def _existence(objects: list[dict], vocab: Vocabulary, rng: np.random.Generator) -> list[dict]:
    present = sorted({o["name"] for o in objects})
    absent = [n for n in vocab.ranked if n not in present]
    if not absent:
        return []
    near = sorted({n for p in present for c in vocab.categories.get(p, ()) for n in vocab.by_category[c]}
                  - set(present), key=lambda n: (-vocab.frequency[n], n))
    choices = {"random": absent, "popular": absent[:POPULAR_TOP], "adversarial": near[:POPULAR_TOP]}
    out = []
    for setting, pool in choices.items():
        if not pool:
            continue
        yes = present[int(rng.integers(len(present)))]
        no = pool[int(rng.integers(len(pool)))]
        out.append(_q("exists", f"Is there {with_article(yes)} in the image?", "yes", [], setting))
        out.append(_q("exists", f"Is there {with_article(no)} in the image?", "no", [], setting))
    return out
