"""The reasoning format and its checks: ``<think>…</think><answer>…</answer>``, parsed strictly, and an
answer verified against the truth of its question.

The format is followed only when the text is exactly one non-empty ``<think>`` block then one non-empty
``<answer>`` block, nothing else around them but whitespace and no tag inside either; a text that is not is
counted as not following it (compliance is measured, never assumed). An answer is right when:

* ``number``: the only number it states (digits or a word, "3" or "three") is the truth;
* ``yesno``: it says exactly one of yes / no, and that is the truth;
* ``name``: of the question's options it names the truth only (:func:`steervis.classes.names_class`).

>>> parse("<think>2 apples and 1 dog.</think> <answer>two</answer>")
Parsed(think='2 apples and 1 dog.', answer='two')
>>> parse("<answer>2</answer>") is None, parse("<think>x</think><answer>2</answer> and more") is None
(True, True)
>>> verified("There are three.", "number", "3"), verified("3 - 1 = 2", "number", "2")
(True, False)
>>> verified("Yes.", "yesno", "yes"), verified("the dog", "name", "dog", ["dog", "cat"])
(True, True)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from steervis.classes import named_classes
from steervis.errors import SteervisError

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
FORMAT = re.compile(r"\s*<think>(?P<think>.*?)</think>\s*<answer>(?P<answer>.*?)</answer>\s*", re.DOTALL)
TAG = re.compile(r"</?(?:think|answer)>")
_TOKEN = re.compile(r"\d+|[a-z]+")


class Parsed(NamedTuple):
    """The two parts of a text that follows the format."""

    think: str
    answer: str


def parse(text: str) -> Parsed | None:
    """The think and answer parts, or ``None`` when ``text`` does not follow the format exactly."""
    match = FORMAT.fullmatch(text)
    if match is None:
        return None
    think, answer = match["think"].strip(), match["answer"].strip()
    if not think or not answer or TAG.search(think) or TAG.search(answer):
        return None
    return Parsed(think, answer)


def chain_text(think: str, answer: str) -> str:
    """The format written out: what a teacher writes and what SFT learns."""
    return f"<think>{think}</think><answer>{answer}</answer>"


def numbers(text: str) -> set[int]:
    """Every whole number ``text`` states, in digits or as a word up to ten."""
    out = set()
    for token in _TOKEN.findall(text.lower()):
        if token.isdigit():
            out.add(int(token))
        elif token in NUMBER_WORDS:
            out.add(NUMBER_WORDS.index(token))
    return out


def verified(answer: str, kind: str, truth: str, options: Sequence[str] = ()) -> bool:
    """Whether ``answer`` states the truth, by the rule of its answer ``kind`` (``number``, ``yesno``,
    ``name``; ``options`` are the names a ``name`` answer chooses among)."""
    if kind == "number":
        return numbers(answer) == {int(truth)}
    if kind == "yesno":
        said = {w for w in _TOKEN.findall(answer.lower()) if w in ("yes", "no")}
        return said == {truth}
    if kind == "name":
        options = list(options)
        return named_classes(answer, options) == [options.index(truth)]
    raise SteervisError(f"Unknown answer kind {kind!r}: choose number, yesno or name.")
