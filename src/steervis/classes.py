"""Class names, shared by every floor (methods, decide, vlm): one check of a class list, one rule for
whether a text names a class.

>>> check_classes(["cat", "dog"])
['cat', 'dog']
>>> check_classes(["cat", "cat"])
Traceback (most recent call last):
...
steervis.errors.SteervisError: Duplicate class names: cat. Each class must appear once.

A text names a class when it holds one of the class's phrases (:func:`class_words`: the name and its
plurals, see :func:`plurals`) as whole words, in any case; underscores, hyphens and spaces all read as one
space, in the class name and in the text. Synonyms do not count: no WordNet noun index is installed offline
(:mod:`steervis.packages` reads timm's ImageNet-21k synset tables, which lack WordNet's sense order).

>>> names_class("Two Cats on a mat", "cat"), names_class("a category", "cat"), names_class("bobcat", "cat")
(True, False, False)
>>> names_class("a hot-air balloon at dawn", "hot_air_balloon"), names_class("red berries", "berry")
(True, True)
>>> named_classes("a cat next to a dog", ["cat", "dog", "car"])
[0, 1]
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence

from steervis.errors import SteervisError

log = logging.getLogger(__name__)
SEPARATORS = re.compile(r"[\s_-]+")  # in class names and texts alike, any run of these reads as one space
IRREGULAR_PLURALS = {"child": "children", "foot": "feet", "goose": "geese", "louse": "lice", "man": "men",
                     "mouse": "mice", "ox": "oxen", "person": "people", "tooth": "teeth", "woman": "women"}


def check_classes(classes: Sequence[str]) -> list[str]:
    """Validate a class list: non-empty, no duplicates, no blanks; warn about names equal up to case."""
    classes = [str(c) for c in classes]
    if not classes:
        raise SteervisError("The class list is empty: give at least two class names.")
    seen: set[str] = set()
    dupes = sorted({c for c in classes if c in seen or seen.add(c)})
    if dupes:
        raise SteervisError(f"Duplicate class names: {', '.join(dupes)}. Each class must appear once.")
    if any(not c.strip() for c in classes):
        raise SteervisError("A class name is blank.")
    folded: dict[str, str] = {}
    for c in classes:
        other = folded.setdefault(c.strip().lower(), c)
        if other != c:
            log.warning("classes %r and %r differ only in case or spaces: they stay two classes; rename one "
                        "folder if they are the same thing", other, c)
    return classes


def plurals(word: str) -> list[str]:
    """English plurals of one lower-case word: ``+s`` always, plus the regular or irregular form if different.

    >>> [plurals(w) for w in ("cat", "bus", "box", "berry")]
    [['cats'], ['buss', 'buses'], ['boxs', 'boxes'], ['berrys', 'berries']]
    >>> [plurals(w) for w in ("knife", "leaf", "giraffe", "mouse")]
    [['knifes', 'knives'], ['leafs', 'leaves'], ['giraffes'], ['mouses', 'mice']]
    """
    out = [word + "s"]
    if word in IRREGULAR_PLURALS:
        out.append(IRREGULAR_PLURALS[word])
    if word.endswith(("s", "x", "z", "ch", "sh", "o")):
        out.append(word + "es")  # buses, boxes, benches, dishes, tomatoes
    elif len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        out.append(word[:-1] + "ies")  # berries (toys: the +s above)
    elif word.endswith("fe") and not word.endswith("ffe"):
        out.append(word[:-2] + "ves")  # knives, wives (giraffes: the +s above)
    elif word.endswith("f") and not word.endswith("ff"):
        out.append(word[:-1] + "ves")  # leaves, wolves, shelves
    return out


@functools.lru_cache(maxsize=8192)
def class_words(class_name: str) -> tuple[str, ...]:
    """The phrases that name a class, lower case with single spaces: the name, then its last word's plurals.

    Underscores and hyphens read as spaces. No synonyms: only the name itself and its plurals count.

    >>> class_words("Hot_Air_Balloon")
    ('hot air balloon', 'hot air balloons')
    >>> class_words("t-shirt")
    ('t shirt', 't shirts')
    """
    words = [w for w in SEPARATORS.split(str(class_name).strip().lower()) if w]
    if not words:
        return ()
    return tuple(" ".join([*words[:-1], last]) for last in dict.fromkeys([words[-1], *plurals(words[-1])]))


@functools.lru_cache(maxsize=8192)
def class_pattern(class_name: str) -> re.Pattern[str]:
    """The compiled regex of :func:`names_class` (its match is the first place a text names the class).

    Whole words: no letter or digit just before or after (an underscore or a hyphen separates, like a space).
    Longer phrases are tried first, so a plural matches whole.
    """
    phrases = sorted(class_words(class_name), key=len, reverse=True)
    if not phrases:
        return re.compile(r"(?!)")  # a blank name is named by no text
    alternatives = "|".join(SEPARATORS.pattern.join(re.escape(w) for w in p.split(" ")) for p in phrases)
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)


def names_class(text: str, class_name: str) -> bool:
    """Whether ``text`` names the class: one of :func:`class_words` as whole words, case-insensitive.

    >>> names_class("a box of knives", "knife"), names_class("kitchen_knife", "knife")
    (True, True)
    >>> names_class("knifed", "knife"), names_class("pocketknife", "knife")
    (False, False)
    """
    return class_pattern(class_name).search(text) is not None


def named_classes(text: str, classes: Sequence[str]) -> list[int]:
    """Indices of the classes ``text`` names (:func:`names_class`), in class order."""
    return [i for i, c in enumerate(classes) if names_class(text, c)]
