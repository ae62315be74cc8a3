"""REACT's retrieval: the pool pairs most relevant to a task's class names, text-to-text or text-to-image.

Queries are class names in a template ensemble, embedded by the matcher's locked text tower. ``t2t`` searches
the pool's texts (REACT found it retrieves the cleaner pairs), ``t2i`` the pool's base image embeddings.
Each class keeps its ``k`` best distinct pairs (best score over its templates). Indexes are built once per
pool and kind, cached under ``STEERVIS_HOME/retrieval``.

>>> from steervis.react.retrieve import names_class
>>> (names_class("a drawing of a full moon. keywords: moon, night", "moon"),
...  names_class("a moonlit sky", "moon"))
(True, False)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from steervis.classes import class_pattern, names_class
from steervis.errors import SteervisError
from steervis.identity import artifact_record, key_of
from steervis.paths import cache_dir
from steervis.prune import write_record

TEMPLATES = ("a photo of a {}.", "a drawing of a {}.", "an emoji of a {}.", "a sketch of a {}.", "{}")
MODES = ("t2t", "t2i")
log = logging.getLogger(__name__)


def pool_manifest(root: str | Path | None = None) -> tuple[pd.DataFrame, str]:
    """The pool's rows with absolute paths, and the manifest's hash (see :class:`steervis.data.pool.Pool`)."""
    from steervis.data.pool import Pool

    pool = Pool.load(root)
    return pool.frame, pool.hash


def check_class_words(classes: Sequence[str]) -> list[str]:
    classes = [str(c).strip() for c in classes if str(c).strip()]
    if not classes:
        raise SteervisError("The class list is empty: give class names, e.g. --classes dog,cat,car.")
    return list(dict.fromkeys(classes))


def check_known(classes: Sequence[str], texts: Sequence[str]) -> list[str]:
    """The classes no pool text names (a warning each); an error when none is named at all.

    Retrieval always returns the nearest pairs, but if no pool text names any class, REACT would customize on
    pairs unrelated to the task.
    """
    pool_texts = pd.Series(list(texts), dtype=str)
    unknown = [c for c in classes if not pool_texts.str.contains(class_pattern(c), regex=True).any()]
    if unknown and len(unknown) == len(classes):
        raise SteervisError(f"No pool text names any of the classes ({', '.join(unknown[:8])}): check the "
                            "spelling, or REACT would train on unrelated pairs.")
    if unknown:
        log.warning("no pool text names %s: their retrieved pairs are only near in meaning",
                    ", ".join(unknown))
    return unknown


def pool_index(matcher: Any, frame: pd.DataFrame, pool_hash: str, mode: str, progress: bool = True) -> Any:
    """The pool's HNSW index for ``mode`` (ids are row numbers of ``frame``), built once and cached."""
    from steervis.matchers.features import image_embeddings, text_features
    from steervis.matchers.index import VectorIndex

    if mode not in MODES:
        raise SteervisError(f"Unknown retrieval mode {mode!r}: use one of {', '.join(MODES)}.")
    # t2t needs only the (locked) text tower, so matchers sharing one share the index.
    name = getattr(matcher, "text_name", matcher.name) if mode == "t2t" else matcher.name
    record = artifact_record("retrieval", config={"mode": mode, "matcher": name}, inputs=[pool_hash])
    key = key_of(record)
    folder = cache_dir("retrieval") / f"{mode}-{name.replace('/', '--')}-{key}"
    if (folder / "meta.json").exists():
        return VectorIndex.load(folder)
    if mode == "t2t":
        vectors = text_features(matcher, frame["text"].tolist(), progress)
    else:
        vectors = image_embeddings(matcher, frame["path"].tolist(), frame["sha256"].tolist(), progress)
    index = VectorIndex.build(vectors, [str(i) for i in range(len(frame))], kind="hnsw")
    index.save(folder)
    write_record(folder, key, record)  # what `steervis cache prune` reads
    return index


def retrieve(classes: Sequence[str], k: int = 50, mode: str = "t2t", matcher: Any = None,
             pool: tuple[pd.DataFrame, str] | None = None, progress: bool = True) -> pd.DataFrame:
    """Per class, its ``k`` best pool pairs: columns class, rank, score, names_class (whether the text names
    the class: :func:`steervis.classes.names_class`) and the pool's columns."""

    classes = check_class_words(classes)
    if k < 1:
        raise SteervisError(f"k={k}: retrieve at least one pair per class.")
    frame, pool_hash = pool or pool_manifest()
    check_known(classes, frame["text"])
    if matcher is None:
        from steervis.matchers import build_matcher

        matcher = build_matcher("conse")
    index = pool_index(matcher, frame, pool_hash, mode, progress)
    queries = matcher.encode_texts([t.format(c) for c in classes for t in TEMPLATES])
    # Ask each template for more than k: the templates' lists overlap, and k distinct pairs must remain.
    scores, ids = index.search(queries, min(len(frame), 3 * k))
    rows = []
    for ci, cls in enumerate(classes):
        best: dict[int, float] = {}
        for ti in range(len(TEMPLATES)):
            q = ci * len(TEMPLATES) + ti
            for score, row in zip(scores[q], ids[q], strict=False):
                best[int(row)] = max(best.get(int(row), -1.0), float(score))
        for rank, (row, score) in enumerate(sorted(best.items(), key=lambda x: -x[1])[:k]):
            rows.append({"class": cls, "rank": rank, "score": score, "pool_row": row})
    out = pd.DataFrame(rows).merge(frame.reset_index(names="pool_row"), on="pool_row")
    out["names_class"] = [names_class(t, c) for t, c in zip(out["text"], out["class"], strict=True)]
    return out.sort_values(["class", "rank"]).reset_index(drop=True)


def precision(pairs: pd.DataFrame) -> pd.Series:
    """Fraction of retrieved pairs per class whose text names the class."""
    return pairs.groupby("class")["names_class"].mean()


