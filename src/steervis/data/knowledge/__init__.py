"""Knowledge questions about each minidomains class, from WordNet: four options, one right, seeded.

After ImageWikiQA (VLMClassifier): questions about the thing an image shows that need recognising it first.
Built once into ``STEERVIS_HOME/data/knowledge/manifest.parquet``, one row a question: ``qid``, ``class``,
``synset``, ``type`` (see :data:`TYPES`), ``question`` (about "it", never naming the class), ``options``
(four), ``answer`` (index of the right option) and ``split`` (``validation`` / ``test``, by class).

>>> from steervis.data.knowledge import build_knowledge, load_questions
>>> frame = load_questions(build_knowledge())  # doctest: +SKIP
>>> frame.groupby("type").size()["hypernym"]  # doctest: +SKIP
69
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from steervis.data.knowledge.questions import (
    PER_TYPE,
    SPLITS,
    TYPES,
    Facts,
    make_questions,
    mask,
    split_classes,
)
from steervis.errors import SteervisError
from steervis.paths import cache_dir

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PER_TYPE", "SPLITS", "TYPES", "Facts", "build_knowledge", "is_current", "knowledge_classes",
           "knowledge_root", "load_questions", "make_questions", "mask", "questions_frame", "request_of",
           "split_classes"]
MANIFEST = "manifest.parquet"
BUILD_INFO = "build.json"
RECIPE_VERSION = 1  # bump when the questions change for the same facts and seed


def knowledge_root() -> Path:
    return cache_dir("data") / "knowledge"


def knowledge_classes() -> list[str]:
    """The classes minidomains can build (``extra`` included), spelt with spaces (``light bulb``)."""
    from steervis.data.minidomains_plan import load_sources

    return sorted(c.replace("_", " ") for c in load_sources(extra=True))


def questions_frame(facts: Mapping[str, Facts], seed: int = 0, per_type: int = PER_TYPE) -> pd.DataFrame:
    """The questions of ``facts`` as a frame, each with its class's split."""
    import pandas as pd

    rows = make_questions(facts, seed=seed, per_type=per_type)
    splits = split_classes(list(facts), seed=seed)
    frame = pd.DataFrame(rows, columns=["qid", "class", "synset", "type", "question", "options", "answer"])
    return frame.assign(split=frame["class"].map(splits))


def request_of(seed: int = 0, per_type: int = PER_TYPE, classes: list[str] | None = None) -> dict:
    """What a build of these settings is made from (compare with a folder's ``build.json``)."""
    classes = knowledge_classes() if classes is None else classes
    return {"version": RECIPE_VERSION, "seed": seed, "per_type": per_type, "classes": sorted(classes)}


def is_current(root: str | Path, request: dict) -> bool:
    """A finished build of exactly this recipe is at ``root``."""
    try:
        root = Path(root)
        return (root / MANIFEST).is_file() and json.loads((root / BUILD_INFO).read_text()) == request
    except (OSError, ValueError):
        return False


def build_knowledge(root: str | Path | None = None, seed: int = 0, per_type: int = PER_TYPE,
                    force: bool = False, facts: Mapping[str, Facts] | None = None) -> Path:
    """Write the questions of every class (from WordNet unless ``facts`` is given) to ``root``; a finished
    build of the same recipe is reused. Also writes ``counts.json`` (questions per type and split)."""
    from steervis.atomic import atomic_dir

    root = Path(root).expanduser().resolve() if root else knowledge_root()
    if facts is None:
        from steervis.data.knowledge.wordnet import wordnet_facts

        request = request_of(seed, per_type, knowledge_classes())
        if is_current(root, request) and not force:
            return root
        facts = wordnet_facts(knowledge_classes())
    request = request_of(seed, per_type, list(facts))
    frame = questions_frame(facts, seed=seed, per_type=per_type)
    per = frame.groupby(["type", "split"]).size()
    counts = {t: {s: int(per.get((t, s), 0)) for s in SPLITS} for t in TYPES}
    with atomic_dir(root, kind="knowledge questions") as staging:
        frame.to_parquet(staging / MANIFEST, index=False)
        (staging / BUILD_INFO).write_text(json.dumps(request, indent=1) + "\n")
        (staging / "counts.json").write_text(json.dumps(counts, indent=1) + "\n")
    return root


def load_questions(root: str | Path | None = None, split: str | None = None) -> pd.DataFrame:
    """The built questions (one split, or all): ``steervis data build knowledge`` writes them."""
    import pandas as pd

    path = Path(root or knowledge_root()) / MANIFEST
    if not path.is_file():
        raise SteervisError(f"No knowledge questions at {path.parent}: run `steervis data build knowledge`.")
    frame = pd.read_parquet(path)
    if split is not None and split not in SPLITS:
        raise SteervisError(f"split={split!r} must be one of: {', '.join(SPLITS)}.")
    frame["options"] = frame["options"].map(list)
    return frame if split is None else frame[frame["split"] == split].reset_index(drop=True)
