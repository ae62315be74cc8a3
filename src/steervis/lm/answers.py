"""From a generated answer to a class: the class it names, or the nearest one by edit distance.

>>> snap_to_class("Dogg.", ["cat", "dog"])
1
>>> named_classes("a cat next to a dog", ["cat", "dog", "car"])
[0, 1]
>>> snap_to_class("Hot dogs.", ["dog", "hot_dog"])
1
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from steervis.classes import named_classes


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute; cost 1 each), O(len(a)·len(b)) on short strings."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def snap_to_class(answer: str, classes: Sequence[str]) -> int:
    """Index of the class a free-text answer names.

    A class the first line names (:func:`steervis.classes.names_class`: whole words, plurals, ``_`` read as a
    space) wins: the one the line is exactly, else the longest one named (so "ice cream" beats "ice");
    otherwise the class at the smallest edit distance from the answer's first line. Plain Levenshtein rather
    than difflib: difflib's ratio is a matching heuristic that can return no match at all, and here every
    answer must map to a class.
    """
    text = (answer.strip().splitlines() or [""])[0].strip().lower().rstrip(".!")
    named = named_classes(text, classes)
    if named:
        exact = [i for i in named if classes[i].lower() == text]  # an answer that is a class name maps to it
        return max(exact or named, key=lambda i: len(classes[i]))
    distances = [levenshtein(text, c.lower()) for c in classes]
    return int(np.argmin(distances))
