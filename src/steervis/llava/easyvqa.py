"""easy-vqa for steervis' LLaVA: three splits, questions per image, question kinds and training items.

easy-vqa (a coloured shape on a plain background; 13 answers) ships a train split of 4,000 images and a test
split of 1,000. Its first 500 shuffled training images (seed 0) are held out of every training run as the
``val`` split, where recipes are chosen; ``train`` is the other 3,500; ``test`` is read only to score a final
model. :func:`diagnosis_rows` is a fixed 1,000-question subset of ``val`` for quick comparisons.

Training asks **one question per conversation**: easy-vqa's questions about one image give each other away
("what is the blue shape?" then "what color is the shape?"), so a packed conversation teaches the model to
copy the colour from an earlier question instead of reading it from the image.

>>> question_kind("is there a red shape?"), question_kind("what color is the shape?")
('yes/no', 'color')
>>> question_kind("what is the blue shape?")
'shape'
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from steervis.errors import SteervisError

SPLITS = ("train", "val", "test")
VAL_IMAGES = 500  # an eighth of the training images: ~4,800 questions, enough to tell recipes apart
VAL_SEED = 0
DIAGNOSIS_QUESTIONS = 1000  # the fixed validation subset quick diagnosis runs are scored on
KINDS = ("yes/no", "color", "shape")
COLOURS = ("black", "blue", "brown", "gray", "green", "red", "teal", "yellow")
SHAPES = ("circle", "rectangle", "triangle")


def question_kind(question: str) -> str:
    """``yes/no``, ``color`` (what colour is the shape) or ``shape`` (which shape)."""
    if question.startswith(("is ", "does ")):
        return "yes/no"
    return "color" if "color" in question else "shape"


def negates(question: str) -> bool:
    """Whether a question is worded in the negative ("is there not a circle?", "is no red shape present?")."""
    return re.search(r"\b(not|no)\b", question) is not None


def wording_answer(question: str) -> str:
    """What a yes/no question's wording alone answers: easy-vqa asks mostly about absent things, so "no",
    unless the question negates ("is there not a circle?" → "yes"). Right four times in five.

    >>> wording_answer("is there a red shape?"), wording_answer("does the image not contain a circle?")
    ('no', 'yes')
    """
    return "yes" if negates(question) else "no"


@cache
def _source(split: str) -> tuple[dict[int, list[tuple[str, str]]], dict[int, str]]:
    """easy-vqa's own split (``train`` or ``test``): (question, answer) pairs and the image path per id."""
    try:
        import easy_vqa
    except ImportError:
        raise SteervisError("easy-vqa is not installed: pip install 'easy-vqa>=1.0,<2'.") from None
    texts, answers, image_ids = getattr(easy_vqa, f"get_{split}_questions")()
    per_image: dict[int, list[tuple[str, str]]] = {}
    for q, a, i in zip(texts, answers, image_ids, strict=True):
        per_image.setdefault(int(i), []).append((q, a))
    paths = {int(k): v for k, v in getattr(easy_vqa, f"get_{split}_image_paths")().items()}
    return per_image, paths


def val_ids() -> list[int]:
    """The held-out validation images: the first :data:`VAL_IMAGES` of a seeded shuffle of the train ids."""
    ids = sorted(_source("train")[0])
    return sorted(int(i) for i in np.random.default_rng(VAL_SEED).permutation(ids)[:VAL_IMAGES])


def questions(split: str) -> dict[int, list[tuple[str, str]]]:
    """(question, answer) pairs per image id of ``train``, ``val`` or ``test``."""
    if split not in SPLITS:
        raise SteervisError(f"easy-vqa has splits {', '.join(SPLITS)}, not {split!r}.")
    per_image = _source("test" if split == "test" else "train")[0]
    if split == "test":
        return per_image
    held = set(val_ids())
    return {i: qa for i, qa in per_image.items() if (i in held) == (split == "val")}


def paths(split: str) -> dict[int, str]:
    """Image path per id of ``split``."""
    chosen = questions(split)
    return {i: p for i, p in _source("test" if split == "test" else "train")[1].items() if i in chosen}


def rows(split: str, images: int | None = None, per_image: int | None = None,
         seed: int = 0) -> list[tuple[int, str, str]]:
    """``(image id, question, answer)`` rows: ``images`` seeded images (``None``: all) and up to ``per_image``
    of each one's questions (``None``: all, in easy-vqa's order)."""
    qa = questions(split)
    rng = np.random.default_rng(seed)
    chosen = sorted(qa) if images is None else [int(i) for i in rng.permutation(sorted(qa))[:images]]
    out = []
    for i in chosen:
        order = range(len(qa[i])) if per_image is None else rng.permutation(len(qa[i]))[:per_image]
        out += [(i, *qa[i][int(j)]) for j in order]
    return out


def balanced(rows_: list[tuple[int, str, str]], n: int, seed: int = 0) -> list[tuple[int, str, str]]:
    """``n`` of ``rows_`` with each question kind equally often, as far as a kind has rows (the rest goes to
    the others): easy-vqa asks yes/no six times as often as colour, so a short run sees little colour.

    >>> rows_ = [(0, "is it red?", "no")] * 6 + [(0, "what color is the shape?", "red")] * 2
    >>> [question_kind(q) for _, q, _ in balanced(rows_, 4)].count("color")
    2
    """
    rng = np.random.default_rng(seed)
    by_kind = {k: [r for r in rows_ if question_kind(r[1]) == k] for k in KINDS}
    quota, left = {}, min(n, len(rows_))
    for k in sorted(KINDS, key=lambda k: len(by_kind[k])):  # the rarest kind first: its shortfall moves on
        quota[k] = min(len(by_kind[k]), left // (len(KINDS) - len(quota)))
        left -= quota[k]
    picked = [by_kind[k][int(j)] for k in KINDS for j in rng.permutation(len(by_kind[k]))[:quota[k]]]
    return [picked[int(j)] for j in rng.permutation(len(picked))]


def diagnosis_rows() -> list[tuple[int, str, str]]:
    """The fixed :data:`DIAGNOSIS_QUESTIONS`-question subset of ``val`` (seeded, images and questions)."""
    every = rows("val")
    keep = np.random.default_rng(VAL_SEED).permutation(len(every))[:DIAGNOSIS_QUESTIONS]
    return [every[int(k)] for k in sorted(keep)]


def _stated(pairs: list[tuple[str, str]], words: tuple[str, ...], asked: str) -> str | None:
    """The one of ``words`` an image's own questions state: the answer to "what ... {asked} ...", a word in
    "what is the red shape?"-style questions, or a word in a question answered yes that negates nothing."""
    for q, a in pairs:
        if q.startswith("what") and asked in q and a in words:
            return a
    for q, a in pairs:
        named = [w for w in words if re.search(rf"\b{w}\b", q)]
        negated = re.search(r"\b(not|no)\b", q) is not None  # "is no red shape present?", "is there not ..."
        if named and ((q.startswith("what is the") and asked == "color") or (a == "yes" and not negated)):
            return named[0]
    return None


def image_colour(pairs: list[tuple[str, str]]) -> str | None:
    """The shape's colour as an image's questions state it, or ``None``.

    >>> image_colour([("is no blue shape present?", "yes"), ("what is the red shape?", "circle")])
    'red'
    """
    return _stated(pairs, COLOURS, "color")


def image_shape(pairs: list[tuple[str, str]]) -> str | None:
    """The shape as an image's questions state it, or ``None``.

    >>> image_shape([("is there not a circle?", "yes"), ("what is the red shape?", "triangle")])
    'triangle'
    """
    return _stated(pairs, SHAPES, "shape")


def redraw_yes_no(rows_: list[tuple[int, str, str]], seed: int = 0,
                  qa: dict[int, list[tuple[str, str]]] | None = None) -> list[tuple[int, str, str]]:
    """The yes/no rows asked again about something present half the time, in their own wording.

    easy-vqa asks mostly about what is absent, so its wording alone answers four yes/no questions in five
    ("is there a X shape?" → no, "is there not a X?" → yes) and a model trained on it never looks. Each
    yes/no question keeps its words but names, half the time, the image's own colour and shape (as its
    questions state them; ``qa``: the train split's), else one wrong value; the answer follows: present,
    unless the wording negates. A row whose image's truth is not stated stays as it is.

    >>> pairs = [("what color is the shape?", "red"), ("what shape is this?", "circle")]
    >>> redrawn = redraw_yes_no([(7, "is there a blue shape?", "no")] * 200, qa={7: pairs})
    >>> sum(a == "yes" for _, _, a in redrawn) / 200, sorted({q for _, q, a in redrawn if a == "yes"})
    (0.5, ['is there a red shape?'])
    """
    qa = questions("train") if qa is None else qa
    rng = np.random.default_rng(seed)
    present = rng.permutation(len(rows_)) % 2 == 0  # exactly half asked about what is there
    out = []
    for (i, q, a), there in zip(rows_, present, strict=True):
        truth = {"color": image_colour(qa.get(i, [])), "shape": image_shape(qa.get(i, []))}
        named = {kind: [w for w in words if re.search(rf"\b{w}\b", q)]
                 for kind, words in (("color", COLOURS), ("shape", SHAPES))}
        asked = [kind for kind, found in named.items() if len(found) == 1]
        if question_kind(q) != "yes/no" or not asked or any(truth[k] is None for k in asked):
            out.append((i, q, a))
            continue
        wrong = asked[int(rng.integers(len(asked)))]  # the one attribute made false when not there
        for kind in asked:
            words = COLOURS if kind == "color" else SHAPES
            say = truth[kind] if there or kind != wrong else str(rng.choice([w for w in words
                                                                              if w != truth[kind]]))
            q = re.sub(rf"\b{named[kind][0]}\b", say, q)
        out.append((i, q, "yes" if bool(there) != negates(q) else "no"))
    return out


def caption(pairs: list[tuple[str, str]]) -> str | None:
    """A stage-1 caption from what the questions state: "a red circle.", "a red shape.", "a circle."."""
    colour, shape = image_colour(pairs), image_shape(pairs)
    if colour is None and shape is None:
        return None
    return f"a {' '.join(w for w in (colour, shape or 'shape') if w)}."


# The response-format prompt of a yes/no question answered after saying what the image shows (``stated``):
# the model writes the image's colour and shape as words, then compares words with words.
STATED_SUFFIX = "Say the shape's colour and shape, then answer yes or no."


def stated_answer(pairs: list[tuple[str, str]], answer: str) -> str | None:
    """A yes/no answer that first says what the image shows ("a red circle, so no."), from what the image's
    questions state; ``None`` when they do not state both colour and shape.

    >>> stated_answer([("what color is the shape?", "red"), ("what shape is this?", "circle")], "no")
    'a red circle, so no.'
    """
    colour, shape = image_colour(pairs), image_shape(pairs)
    return f"a {colour} {shape}, so {answer}." if colour and shape else None


def prompt(question: str, suffix: str, stated: bool = False) -> str:
    """The question and its response-format prompt: :data:`STATED_SUFFIX` for a yes/no question asked
    ``stated``, else ``suffix``.

    >>> prompt("is there a circle?", "Answer.", stated=True).splitlines()[1] == STATED_SUFFIX
    True
    """
    stated = stated and question_kind(question) == "yes/no"
    return f"{question}\n{STATED_SUFFIX if stated else suffix}".strip()


def scored_answer(question: str, reply: str, stated: bool = False) -> str:
    """What is scored of a reply: the last yes or no of a yes/no question asked ``stated``, else the reply."""
    return final_answer(reply) if stated and question_kind(question) == "yes/no" else reply


def final_answer(reply: str) -> str:
    """The yes or no a stated reply ends with; a reply with neither, as it is.

    >>> final_answer("a red circle, so no."), final_answer("circle")
    ('no', 'circle')
    """
    found = re.findall(r"\b(yes|no)\b", reply.lower())
    return found[-1] if found else reply


def told(pairs: list[tuple[str, str]]) -> str | None:
    """An image's truth in words, said before a question in place of the image ("The image shows a red
    circle."): the ``told`` diagnosis and told training items share this sentence; ``None`` when the
    questions state neither colour nor shape.

    >>> told([("what color is the shape?", "red"), ("what shape is this?", "circle")])
    'The image shows a red circle.'
    """
    fact = caption(pairs)
    return f"The image shows {fact}" if fact else None
