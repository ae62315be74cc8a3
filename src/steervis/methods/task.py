"""A task: a folder's images and class names, opened in one place, and the one place its task-bound names
are resolved.

Some describer settings mean something only for a task. Class tags rank *these* class names, and the matcher
``react`` is REACT customized for *these* class names (retrieve pool pairs for them, train a gated head, both
cached by class list). Every entry point that works on a folder (``steervis evaluate``, ``fit``, ``describe
--data``, ``study text-shift``) opens it with :func:`open_task`, and gets its describers from
:meth:`Task.describer`, which turns such a describer into one that names built artifacts only: the class
list filled in, ``react`` replaced by its trained folder. A describer that reaches a matcher unresolved is
refused with a clear message (:data:`steervis.matchers.TASK_BOUND`).

>>> from steervis.vllavo.describe import DescribeConfig
>>> resolve_task_names(DescribeConfig(class_tags=3), ["dog", "cat"]).classes
['cat', 'dog']
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
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


@dataclass
class Task:
    """A folder's usable images (``folder.frame``, maybe a subset), their sorted class names, and the decoded
    images every later step reuses."""

    folder: Any  # a steervis.data.folder.FolderData
    images: Any = field(repr=False)  # a steervis.data.decoded.DecodedImages
    progress: bool = True

    @property
    def frame(self) -> Any:
        return self.folder.frame

    @property
    def classes(self) -> list[str]:
        return self.folder.classes

    def describer(self, describe: Any) -> Any:
        """``describe`` bound to this task's class names (:func:`resolve_task_names`)."""
        return resolve_task_names(describe, self.classes, self.progress)


def open_task(data: str | Path | None = None, domains: list[str] | None = None,
              classes: list[str] | None = None, max_per_class: int = 0, follow_links: bool = False,
              progress: bool = True, check_progress: bool | None = None) -> Task:
    """The task of the folder ``data`` (default: minidomains): its images checked and decoded once, only
    ``domains`` / ``classes`` if given, and at most ``max_per_class`` images per (domain, class), chosen by
    content hash (a fixed pseudo-random subset, identical on every machine and every run). ``progress`` shows
    the bars of the task's work (a REACT trained for it); ``check_progress`` the folder check's (default: the
    same)."""
    from steervis.data import load_folder, minidomains_root
    from steervis.data.decoded import DecodedImages

    images = DecodedImages()  # decoded once by the folder check, reused by describe and features
    root = Path(data).expanduser() if data else minidomains_root()
    check = progress if check_progress is None else check_progress
    folder = load_folder(root, domains=domains or None, classes=classes or None, progress=check,
                         images=images, follow_links=follow_links)
    if max_per_class:
        by_content = folder.frame.sort_values("sha256").groupby(["domain", "class"], sort=True)
        frame = by_content.head(max_per_class).sort_values(["domain", "class", "path"]).reset_index(drop=True)
        folder = replace(folder, frame=frame, classes=sorted(frame["class"].unique()),
                         domains=sorted(frame["domain"].unique()))
    return Task(folder, images, progress)
