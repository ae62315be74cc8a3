"""Four-option questions from a table of facts per class, after ImageWikiQA's idea: a question about the
thing an image shows that anyone who recognises it (and knows the fact) can answer.

Each relation gives a type: ``hypernym`` (what it is a kind of), ``part`` (a part of it), ``whole`` (what it
is part of), ``substance`` (what it is made of), ``member`` (the group it belongs to) and ``gloss`` (the word
missing from its dictionary definition, the class's own names masked). The three distractors come from the
same relation of the other classes, never a value that is true of this class (its ancestors' too), never a
value sharing a word with its names, never a gloss. Every draw is seeded by (seed, class, type), so adding a
class leaves which facts the other classes are asked about unchanged.

>>> facts = {"cat": Facts("cat", "cat.n.01", "a small feline pet", ["cat"],
...                       {"hypernym": ["feline"]}, {"hypernym": ["feline", "animal"]})}
>>> facts |= {n: Facts(n, n, "", [n], {"hypernym": [h]}, {"hypernym": [h]})
...           for n, h in [("dog", "canine"), ("cow", "cattle"), ("owl", "bird of prey")]}
>>> q = make_questions(facts)[0]
>>> q["class"], q["question"], sorted(q["options"]), q["options"][q["answer"]]
('cat', 'Which of these is it a kind of?', ['bird of prey', 'canine', 'cattle', 'feline'], 'feline')
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

TYPES = ("hypernym", "part", "whole", "substance", "member", "gloss")
TEMPLATES = {
    "hypernym": "Which of these is it a kind of?",
    "part": "Which of these is a part of it?",
    "whole": "Which of these is it a part of?",
    "substance": "Which of these is it made of?",
    "member": "Which group is it a member of?",
    "gloss": 'Which word fills the blank in its dictionary definition: "{gloss}"?',
}
OPTIONS = 4
PER_TYPE = 3  # questions per class and type at most: a class with 20 car parts would outweigh the rest
NAME_MASK = "[it]"
BLANK = "___"
SPLITS = ("validation", "test")


@dataclass(frozen=True)
class Facts:
    """What is known of one class.

    Attributes:
        name: The class name (spaces, e.g. ``light bulb``).
        synset: Where the facts come from (a WordNet sense such as ``dog.n.01``).
        gloss: Its dictionary definition.
        names: Every name of it (class name, synonyms): masked in the gloss, never an answer.
        relations: Per type, the values that answer a question about it.
        true: Per type, every value true of it (its ancestors' included): never a distractor.
    """

    name: str
    synset: str
    gloss: str
    names: list[str]
    relations: Mapping[str, list[str]]
    true: Mapping[str, list[str]]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def shares_name(value: str, names: list[str]) -> bool:
    """``value`` names the class or shares a word with one of its names (plurals too: grape, grapes)."""
    named = set().union(*(_words(n) for n in names)) if names else set()
    named |= {w + "s" for w in named} | {w[:-1] for w in named if w.endswith("s")}
    return bool(_words(value) & named)


def mask(text: str, names: list[str], by: str = NAME_MASK) -> str:
    """``text`` with every name and the head word of a name of several words ("bulb" of "light bulb")
    replaced by ``by`` (longest first, whole words, any case, plural too)."""
    heads = {n.split()[-1] for n in names if " " in n}
    for name in sorted(set(names) | heads, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}s?\b", by, text, flags=re.IGNORECASE)
    return text


def _text(facts: Facts, kind: str, answer: str) -> str:
    if kind != "gloss":
        return TEMPLATES[kind]
    blanked = re.sub(rf"\b{re.escape(answer)}\b", BLANK, mask(facts.gloss, facts.names), flags=re.IGNORECASE)
    return TEMPLATES[kind].format(gloss=blanked)


def _answers(facts: Facts, kind: str) -> list[str]:
    return list(dict.fromkeys(a for a in facts.relations.get(kind, []) if not shares_name(a, facts.names)))


def _distractors(facts: Facts, kind: str, answer: str, pool: list[str]) -> list[str]:
    true = {v.lower() for v in facts.true.get(kind, [])} | {answer.lower()}
    if kind == "gloss":
        true |= _words(facts.gloss)
    return [v for v in pool if v.lower() not in true and not shares_name(v, facts.names)]


def make_questions(facts: Mapping[str, Facts], seed: int = 0, per_type: int = PER_TYPE) -> list[dict]:
    """Every question the facts allow: per class and type up to ``per_type`` answers, each with three
    distractors; a question with fewer than three possible distractors is left out."""
    pools = {kind: sorted({v for f in facts.values() for v in f.relations.get(kind, [])}, key=str.lower)
             for kind in TYPES}
    rows = []
    for name in sorted(facts):
        f = facts[name]
        for kind in TYPES:
            rng = random.Random(f"{seed}/{name}/{kind}")
            answers = _answers(f, kind)
            for answer in rng.sample(answers, min(per_type, len(answers))):
                pool = list({v.lower(): v for v in _distractors(f, kind, answer, pools[kind])}.values())
                if len(pool) < OPTIONS - 1:
                    continue
                options = [answer, *rng.sample(pool, OPTIONS - 1)]
                rng.shuffle(options)
                rows.append({"qid": f"{name}/{kind}/{answer}", "class": name, "synset": f.synset,
                             "type": kind, "question": _text(f, kind, answer), "options": options,
                             "answer": options.index(answer)})
    return rows


def split_classes(classes: list[str], seed: int = 0) -> dict[str, str]:
    """Half the classes (rounded up) for validation, the rest for test, by a seeded shuffle.

    Split by class, not by question: the gate keeps question *types* on validation, and a test class never
    seen there shows whether the kept types hold for things the choice was not made on.
    """
    order = sorted(set(classes))
    random.Random(seed).shuffle(order)
    cut = (len(order) + 1) // 2
    return {c: SPLITS[0] if i < cut else SPLITS[1] for i, c in enumerate(order)}
