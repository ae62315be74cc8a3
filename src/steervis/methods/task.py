"""A task's names resolved once: the one place a describer meets the class names it describes for.

Some describer settings mean something only for a task. Class tags rank *these* class names, and the matcher
``react`` is REACT customized for *these* class names (retrieve pool pairs for them, train a gated head, both
cached by class list). :func:`resolve_task_names` turns such a describer into one that names built artifacts
only: the class list filled in, ``react`` replaced by its trained folder. Every entry point that knows a task
(``steervis evaluate``, ``fit``, ``describe --data``, ``bench text-shift``) calls it; a describer that reaches
a matcher without it is refused with a clear message (:data:`steervis.matchers.TASK_BOUND`).

>>> from steervis.vllavo.describe import DescribeConfig
>>> resolve_task_names(DescribeConfig(class_tags=3), ["dog", "cat"]).classes
['cat', 'dog']
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any


def resolve_task_names(describe: Any, classes: list[str], progress: bool = True) -> Any:
    """``describe`` (a ``DescribeConfig``) for the task of ``classes``: class tags get the class list, and the
    task-bound matcher ``react`` becomes REACT customized for these classes (trained here on first use, with
    the same key the ``react`` method uses, so the two share one model)."""
    describe = describe.for_task(list(classes))
    if describe.matcher == "react":
        from steervis.react.build import react_for

        describe = replace(describe, matcher=str(react_for(list(classes), progress=progress)))
    return describe
