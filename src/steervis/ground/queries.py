"""DesCo's context-sensitive queries (Li et al., "Learning Object Recognition with Rich Language
Descriptions", 2023): training prompts that describe an object without naming it, beside confusable
negatives, some of them describing an object that is not there at all.

A training image is prompted one of two ways, drawn per image at :attr:`PromptSettings.description_ratio`:

* **names** (GLIP): its objects' names and ``train.negatives`` absent names; with ``similar_negatives`` the
  absent names nearest to its own by sentence embedding, else a random draw;
* **a description**: one of its concepts described (:mod:`steervis.ground.descriptions`) beside the
  descriptions of ``description_negatives`` absent concepts; only that concept's boxes answer. A share
  ``absent_share`` of them describes an absent concept instead: nothing answers, the model must find nothing.

Similarity is the cosine of mean-pooled token states of the grounder's own frozen text encoder (MiniLM-L6 in
the recipe: how its sentence embeddings are made); without ``similar_negatives`` negatives are drawn at
random.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from steervis.errors import SteervisError
from steervis.ground.descriptions import MAX_WORDS, Descriptions


@dataclass
class PromptSettings:
    """How training prompts are written (the defaults are GLIP's: names and random absent names)."""

    description_ratio: float = 0.0  # share of prompts written as a description (DesCo mixes; 0: names only)
    absent_share: float = 0.0  # of the description prompts, the share describing an absent concept
    similar_negatives: bool = False  # negatives nearest the target by sentence embedding, not at random
    description_negatives: int = 3  # absent descriptions beside the target: four fit the 128-token window
    description_words: int = MAX_WORDS  # a description's length cap, in words
    descriptors: str = ""  # a YAML of LM-written descriptors per class (by-description's cache, or yours)

    def __post_init__(self) -> None:
        for name in ("description_ratio", "absent_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SteervisError(f"prompts.{name}={value} must be a share between 0 and 1.")
        if self.description_negatives < 0 or self.description_words < 1:
            raise SteervisError("prompts.description_negatives must be at least 0 and "
                                "prompts.description_words at least 1.")

    @property
    def is_glip(self) -> bool:
        """Whether these settings write GLIP's prompts (names, random negatives) and nothing else."""
        return self == PromptSettings()


@torch.no_grad()
def sentence_embeddings(text: Any, sentences: Sequence[str], batch_size: int = 256) -> np.ndarray:
    """``[n, dim]`` unit vectors: each sentence's token states (the frozen encoder) averaged over its real
    tokens, as MiniLM's sentence embeddings are pooled."""
    out = []
    for i in range(0, len(sentences), batch_size):
        batch = text.tokenizer(list(sentences[i : i + batch_size]), truncation=True, max_length=64,
                               padding=True, return_tensors="pt")
        states = text.states(batch["input_ids"], batch["attention_mask"])
        mask = batch["attention_mask"][..., None].to(states)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1)
        out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def most_similar(target: np.ndarray, candidates: np.ndarray, excluded: Sequence[int], k: int) -> list[int]:
    """Indices of the ``k`` rows of ``candidates`` nearest ``target`` (cosine of unit vectors; a ``[m, d]``
    target scores each row by its nearest target row), best first, ``excluded`` rows left out."""
    scores = np.atleast_2d(target) @ candidates.T
    best = scores.max(axis=0)
    best[np.asarray(list(excluded), dtype=int)] = -np.inf
    order = np.argsort(-best, kind="stable")
    return [int(i) for i in order[: max(0, min(k, len(order) - len(set(excluded))))]]


@dataclass
class Query:
    """One training prompt: its phrases and, for each of the image's objects, the phrase it answers to
    (None: the object is not prompted)."""

    phrases: list[str]
    answers: list[int | None]
    kind: str  # names, description or absent


class QueryWriter:
    """Writes each image's prompt from the vocabulary, each concept's descriptions and (for similar
    negatives) their sentence embeddings."""

    def __init__(self, settings: PromptSettings, vocabulary: Sequence[str], negatives: int,
                 descriptions: Descriptions | None = None, text: Any = None):
        self.settings, self.vocabulary, self.negatives = settings, list(vocabulary), negatives
        self.index = {n: i for i, n in enumerate(self.vocabulary)}
        self.descriptions = descriptions or Descriptions()
        if settings.description_ratio > 0 and not self.descriptions.texts:
            raise SteervisError("No training concept has a description without its name: give "
                                "prompts.descriptors or set prompts.description_ratio=0.")
        self.names_emb = self.first_emb = None
        if settings.similar_negatives:
            self.names_emb = sentence_embeddings(text, self.vocabulary)
            self.first_emb = sentence_embeddings(text, [self.descriptions.of(n)[0] for n in self.vocabulary])

    def negatives_for(self, targets: Sequence[str], present: Sequence[str], k: int, rng: np.random.Generator,
                      emb: np.ndarray | None) -> list[str]:
        """``k`` absent concepts: the nearest to ``targets`` (rows of ``emb``) or a random draw."""
        excluded = sorted({self.index[p] for p in present if p in self.index})
        if emb is None or not targets:
            held = set(present)
            pool = [v for v in self.vocabulary if v not in held]
            return rng.choice(pool, size=min(k, len(pool)), replace=False).tolist() if pool else []
        rows = emb[[self.index[t] for t in targets if t in self.index]]
        return [self.vocabulary[i] for i in most_similar(rows, emb, excluded, k)]

    def names(self, present: list[str], rng: np.random.Generator) -> Query:
        own = list(dict.fromkeys(present))
        phrases = own + self.negatives_for(own, own, self.negatives, rng, self.names_emb)
        rng.shuffle(phrases)
        return Query(phrases, [phrases.index(p) for p in present], "names")

    def described(self, present: list[str], rng: np.random.Generator) -> Query:
        """One concept described (present, or absent at ``absent_share``) beside absent descriptions."""
        own = list(dict.fromkeys(present))
        absent = rng.random() < self.settings.absent_share or not own
        if absent:
            held = set(own)
            pool = [v for v in self.vocabulary if v not in held and v in self.descriptions.texts]
            target = pool[int(rng.integers(len(pool)))] if pool else None
        else:
            target = own[int(rng.integers(len(own)))]
        if target is None:
            return self.names(present, rng)
        choices = self.descriptions.of(target)
        phrases = [choices[int(rng.integers(len(choices)))]]
        others = self.negatives_for([target], [*own, target], self.settings.description_negatives, rng,
                                    self.first_emb)
        phrases += [d for d in (self.descriptions.of(n)[0] for n in others) if d not in phrases]
        said = phrases[0]
        rng.shuffle(phrases)
        answer = None if absent else phrases.index(said)
        return Query(phrases, [answer if p == target else None for p in present],
                     "absent" if absent else "description")

    def write(self, present: list[str], rng: np.random.Generator) -> Query:
        """The prompt of an image holding objects named ``present``."""
        if rng.random() < self.settings.description_ratio:
            return self.described(present, rng)
        return self.names(present, rng)
