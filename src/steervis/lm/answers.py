"""From a generated answer to a class: the class it names, or the nearest one by edit distance.

>>> snap_to_class("Dogg.", ["cat", "dog"])
1
>>> named_classes("a cat next to a dog", ["cat", "dog", "car"])
[0, 1]
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute; cost 1 each), O(len(a)·len(b)) on short strings."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def named_classes(answer: str, classes: Sequence[str]) -> list[int]:
    """Indices of the classes the answer names as whole words (case-insensitive)."""
    text = answer.lower()
    return [i for i, c in enumerate(classes) if re.search(rf"(?<!\w){re.escape(c.lower())}(?!\w)", text)]


def snap_to_class(answer: str, classes: Sequence[str]) -> int:
    """Index of the class a free-text answer names.

    A class named verbatim as a phrase on the first line wins (the longest one, so "ice cream" beats "ice");
    otherwise the class at the smallest edit distance from the answer's first line. Plain Levenshtein rather
    than difflib: difflib's ratio is a matching heuristic that can return no match at all, and here every
    answer must map to a class.
    """
    text = (answer.strip().splitlines() or [""])[0].strip().lower().rstrip(".!")
    named = named_classes(text, classes)
    if named:
        return max(named, key=lambda i: len(classes[i]))
    distances = [levenshtein(text, c.lower()) for c in classes]
    return int(np.argmin(distances))
