"""VRL's verbalization cache: a verbalizer's answers kept under ``STEERVIS_HOME``, keyed by one identity.

Verbalizing asks a model up to ``max_pairs`` questions, and the shuffled control, another classifier, or
another seed that draws the same pairs would ask the same ones again. :class:`CachedVerbalizer` keeps the
raw answers (criteria are parsed from them on every fit, so an edit to the parsing never meets a stale
criterion) in ``vrl-answers/<key>.json``, under the key of an identity record (:mod:`steervis.identity`,
kind ``vrl-answers``):

* config: the verbalizer's kind and settings (the model's name, its precision, the asker's answer prefix,
  ``max_new_tokens`` and batch size), and the question templates;
* inputs: every pair (kind, shot rows, classes) and the exact text shown for it (the templates filled with
  the descriptions or the class names; a VLM's question and the two images' hashes). The seed that drew
  the pairs enters through the pairs, so seeds that draw the same pairs share their answers;
* weights: the model's name, or ``name@hash`` of its files when it is a folder;
* code: the behaviour versions of the LM core and the VLM.

A file whose identity is not the record's, that does not parse, or whose answers do not match the pairs is
asked again and replaced; every write is atomic. A hit is logged.

:class:`CachedScores` keeps a mapping that a model computes cell by cell (the VLM's yes/no log-odds of each
image × criterion, :class:`steervis.methods.vrl_vlm.VLMMapper`) in a :class:`~steervis.store.Store` under
``vrl-vlm-scores/``: the store's folder is keyed by an identity record (kind ``vrl-vlm-scores``: the model's
settings, its weights' identity and the code's behaviour versions) and each row by the exact text asked and
the image's sha256, so a refit or a prediction scores only the cells it has not seen, an edited criterion is
scored again, and a retrained model or a new behaviour version never reads an old score.

>>> import tempfile, os
>>> os.environ["STEERVIS_HOME"] = tempfile.mkdtemp()
>>> class Echo:
...     kind, calls = "echo", 0
...     def shown(self, pairs): return [f"say {p}" for p in pairs]
...     def answer(self, pairs):
...         Echo.calls += 1
...         return [f"- {p}" for p in pairs]
>>> cached = CachedVerbalizer(Echo(), {"max_new_tokens": 8}, ["echo-lm"])
>>> cached.answer(["a", "b"]) == cached.answer(["a", "b"]), Echo.calls
(True, 1)
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from steervis.atomic import DAMAGED, write_text
from steervis.identity import artifact_record, folder_identity, stamped
from steervis.paths import cache_dir
from steervis.prune import write_record
from steervis.store import Store

log = logging.getLogger(__name__)

AREA = "vrl-answers"  # the cache's folder under STEERVIS_HOME, and the identity kind
SCORES = "vrl-vlm-scores"  # the VLM mapping's folder under STEERVIS_HOME, and its identity kind


def weights_identity(name: str) -> str:
    """A model's name, or ``name@hash`` of its files when ``name`` is a folder (a model saved here), so a
    retrained model never meets the answers of the old one."""
    folder = Path(name).expanduser()
    return folder_identity(name, folder) if folder.is_dir() else name


def _pair_text(pair: Any) -> str:
    if hasattr(pair, "classes"):
        return f"{pair.kind} {pair.first} {pair.second} {' | '.join(pair.classes)}"
    return str(pair)


@dataclass
class CachedVerbalizer:
    """A :class:`~steervis.vrl.verbalize.Verbalizer` whose answers are cached.

    Args:
        inner: the verbalizer asked on a miss (its ``kind`` and ``shown`` make the key).
        settings: what else changes its answers (model name, precision, generation settings, templates).
        weights: the identities of the weights it reads (:func:`weights_identity`).
    """

    inner: Any
    settings: dict[str, Any]
    weights: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.inner.kind

    def shown(self, pairs: Sequence[Any]) -> list[str]:
        return self.inner.shown(pairs)

    def record(self, pairs: Sequence[Any]) -> dict[str, Any]:
        """The stamped identity record of these pairs' answers."""
        inputs = [_pair_text(p) for p in pairs] + list(self.inner.shown(pairs))
        config = {"verbalizer": self.inner.kind, **self.settings}
        return stamped(artifact_record(AREA, config=config, inputs=inputs, weights=self.weights))

    def path(self, record: dict[str, Any]) -> Path:
        return cache_dir(AREA) / f"{record['key']}.json"

    def answer(self, pairs: Sequence[Any]) -> list[str]:
        record = self.record(pairs)
        path = self.path(record)
        found = _read(path, record, len(pairs))
        if found is not None:
            log.info("VRL: %d answers of %s from the cache (%s)", len(found), self.inner.kind, path)
            return found
        start = time.perf_counter()
        answers = [str(a) for a in self.inner.answer(pairs)]
        log.info("VRL: %d answers of %s asked in %.1f s", len(answers), self.inner.kind,
                 time.perf_counter() - start)
        write_text(path, json.dumps({"identity": record, "answers": answers}, indent=1, default=str))
        write_record(path, record["key"], {k: v for k, v in record.items() if k != "key"})
        return answers


def _read(path: Path, record: dict[str, Any], count: int) -> list[str] | None:
    """The answers a cache file holds for ``record``, or None: absent, damaged, or of another identity."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except DAMAGED:
        log.warning("VRL: %s is damaged: asking again", path)
        return None
    answers = data.get("answers") if isinstance(data, dict) else None
    if not (isinstance(data, dict) and data.get("identity") == json.loads(json.dumps(record, default=str))
            and isinstance(answers, list) and len(answers) == count
            and all(isinstance(a, str) for a in answers)):
        log.warning("VRL: %s is not the answers of this verbalization: asking again", path)
        return None
    return answers


def cell_key(text: str, image: str) -> str:
    """A score's row key: the exact text asked and the image's sha256."""
    return hashlib.sha256(f"{text}\0{image}".encode()).hexdigest()[:24]


@dataclass
class CachedScores:
    """Image × text scores computed cell by cell, each cell kept once per model and settings.

    Args:
        name: the model's name (the store folder's readable part).
        settings: what else changes a score (precision, the answers compared, the batch size).
        weights: the identities of the weights it reads (a model trained here by the hash of its files).
    """

    name: str
    settings: dict[str, Any]
    weights: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.store = Store.for_artifact(cache_dir(SCORES), self.name, SCORES, config=self.settings,
                                        weights=self.weights, what="VLM score part")

    def scores(self, images: Sequence[str], texts: Sequence[str],
               compute: Callable[[list[int], str], np.ndarray]) -> np.ndarray:
        """``[images, texts, width]`` scores; ``images`` are sha256s. ``compute(rows, text)`` gives the
        ``[len(rows), width]`` scores of the images at positions ``rows`` on one text; it is called once per
        text that has cells missing, with those images only (each once)."""
        if not len(images) or not len(texts):
            return np.zeros((len(images), len(texts), 0), np.float32)
        self.store.refresh()  # parts another run wrote since this one looked
        keys = [[cell_key(text, image) for image in images] for text in texts]
        asked = 0
        for text, row_keys in zip(texts, keys, strict=True):
            missing, first = set(self.store.missing(row_keys)), {}
            for i, key in enumerate(row_keys):
                if key in missing:
                    first.setdefault(key, i)  # an image listed twice is scored once
            if first:
                self.store.put_vectors(list(first), np.asarray(compute(list(first.values()), text)))
                asked += len(first)
        if asked:
            self.store.compact()
        log.info("VRL: %d %s scores computed, the rest of %d from the cache", asked, self.name,
                 len(images) * len(texts))
        found = self.store.vectors([k for row_keys in keys for k in row_keys])
        return found.reshape(len(texts), len(images), -1).transpose(1, 0, 2)
