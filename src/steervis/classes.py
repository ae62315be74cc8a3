"""Class-name checks shared by every floor (methods, decide, vlm): one rule, one message.

>>> check_classes(["cat", "dog"])
['cat', 'dog']
>>> check_classes(["cat", "cat"])
Traceback (most recent call last):
...
steervis.errors.SteervisError: Duplicate class names: cat. Each class must appear once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from steervis.errors import SteervisError

log = logging.getLogger(__name__)


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
