"""VRL's verbalizer: what differs between two classes, what one class shares, said in words.

Pairs are drawn from the shots only (:func:`draw_pairs`): an image of one class against an image of another
(a *difference*), and two images of one class (a *commonality*); with a class → super-category map, classes
are only paired inside their super-category, where the differences that matter are fine-grained.

A :class:`Verbalizer` answers pairs. :class:`DescribeThenLM` is the "describe + text LM" setting: each image
comes as its description (text the caller gets from a describer) and a language model writes the answer. A
VLM verbalizer, shown the two images themselves, is another :class:`Verbalizer` over the same pairs
(:class:`steervis.methods.vrl_vlm.VLMVerbalizer`, the ``vrl`` method's ``verbalizer=vlm``). Two controls:
:func:`class_name_pairs` (the class-names control: the LM is asked about the names alone, no image) and
:func:`shuffle_criteria` (the same words, shuffled across criteria).

>>> labels = ["cat", "cat", "dog", "dog"]
>>> [(p.kind, p.classes) for p in draw_pairs(labels)]
[('difference', ('cat', 'dog')), ('commonality', ('cat', 'cat')), ('commonality', ('dog', 'dog'))]
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from steervis.errors import SteervisError
from steervis.vrl.criteria import Criterion, drop_class_naming, merge, parse_commonalities, parse_differences

log = logging.getLogger(__name__)

DIFFERENCE = ("Two images are described below.\nImage 1: {first}\nImage 2: {second}\n"
              "List the visual differences between image 1 and image 2, one per line, each written as "
              "'what image 1 has | what image 2 has'. Name parts, colours, shapes and textures, not what "
              "the objects are.")
COMMONALITY = ("Two images of the same kind of thing are described below.\nImage 1: {first}\n"
               "Image 2: {second}\nList the visual features both images share, one per line, each a short "
               "phrase. Name parts, colours, shapes and textures, not what the objects are.")
NAME_DIFFERENCE = ("List the visual differences between the {first} and the {second}, one per line, each "
                   "written as 'what the {first} has | what the {second} has'. Name parts, colours, shapes "
                   "and textures.")
NAME_COMMONALITY = "List the visual features every {first} has, one per line, each a short phrase."
ANSWER_PREFIX = "-"  # the answer starts as a bullet list, which small LMs then keep writing
MAX_DESCRIPTION_CHARS = 600  # a description is cut here: the small LMs' context holds two and an answer
Ask = Callable[[list[str]], list[str]]  # questions → answers (a text LM)


@dataclass(frozen=True)
class Pair:
    """Two shots (row positions; -1 for a class name without image) and their classes; ``kind`` is
    ``difference`` (two classes) or ``commonality`` (one class)."""

    kind: str
    first: int
    second: int
    classes: tuple[str, str]


class Verbalizer(Protocol):
    """Answers pairs: one text per pair, whatever it sees of them (descriptions, images, class names).

    ``kind`` names the verbalizer and ``shown`` gives, per pair, the exact text of what it is shown (an
    image as its hash): the inputs the verbalization cache (:mod:`steervis.vrl.cache`) keys its answers on."""

    kind: str

    def shown(self, pairs: Sequence[Pair]) -> list[str]: ...

    def answer(self, pairs: Sequence[Pair]) -> list[str]: ...


def _groups(classes: Sequence[str], super_of: Mapping[str, str] | None) -> list[list[str]]:
    if super_of is None:
        return [list(classes)]
    missing = [c for c in classes if c not in super_of]
    if missing:
        raise SteervisError(f"The super-category map has no entry for {', '.join(missing[:5])}: give every "
                            "class a super-category.")
    by_super: dict[str, list[str]] = {}
    for c in classes:
        by_super.setdefault(super_of[c], []).append(c)
    return list(by_super.values())


def draw_pairs(labels: Sequence[str], per_pair: int = 1, super_of: Mapping[str, str] | None = None,
               max_pairs: int = 0, seed: int = 0) -> list[Pair]:
    """Difference pairs for every two classes (inside a super-category when ``super_of`` is given) and
    commonality pairs for every class with two shots or more, ``per_pair`` of each; at most ``max_pairs``
    (0: all), drawn at random."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        rows.setdefault(str(label), []).append(i)
    classes = sorted(rows)
    pairs = []
    for group in _groups(classes, super_of):
        for a, b in itertools.combinations(group, 2):
            every = list(itertools.product(rows[a], rows[b]))
            for k in rng.permutation(len(every))[:per_pair]:
                pairs.append(Pair("difference", *every[k], (a, b)))
    for c in classes:
        every = list(itertools.combinations(rows[c], 2))
        for k in rng.permutation(len(every))[:per_pair]:
            pairs.append(Pair("commonality", *every[k], (c, c)))
    return _at_most(pairs, max_pairs, rng)


def _at_most(pairs: list[Pair], max_pairs: int, rng: np.random.Generator) -> list[Pair]:
    """``max_pairs`` of ``pairs`` drawn at random, in their order (0, or no more than that: all)."""
    if max_pairs and len(pairs) > max_pairs:
        pairs = [pairs[k] for k in sorted(rng.choice(len(pairs), max_pairs, replace=False))]
    return pairs


def class_name_pairs(classes: Sequence[str], super_of: Mapping[str, str] | None = None, max_pairs: int = 0,
                     seed: int = 0) -> list[Pair]:
    """The class-names control's pairs: every two classes (inside a super-category when ``super_of`` is
    given) and every class, with no image; at most ``max_pairs`` (0: all), drawn at random as
    :func:`draw_pairs` draws them, so the control asks as many questions as the verbalizer it controls."""
    pairs = [Pair("difference", -1, -1, (a, b)) for group in _groups(classes, super_of)
             for a, b in itertools.combinations(group, 2)]
    pairs += [Pair("commonality", -1, -1, (c, c)) for c in classes]
    return _at_most(pairs, max_pairs, np.random.default_rng(seed))


@dataclass
class DescribeThenLM:
    """The "describe + text LM" verbalizer: the pair's two descriptions in a question to a text LM."""

    ask: Ask
    descriptions: Sequence[str]
    kind = "describe+lm"

    def shown(self, pairs: Sequence[Pair]) -> list[str]:
        """The exact question each pair puts to the LM (what the verbalization cache keys on)."""
        def text(row: int) -> str:
            return " ".join(self.descriptions[row].split())[:MAX_DESCRIPTION_CHARS] or "(no description)"

        return [(DIFFERENCE if p.kind == "difference" else COMMONALITY)
                .format(first=text(p.first), second=text(p.second)) for p in pairs]

    def answer(self, pairs: Sequence[Pair]) -> list[str]:
        return self.ask(self.shown(pairs))


@dataclass
class ClassNamesLM:
    """The class-names control: the LM is asked about the two class names, no image."""

    ask: Ask
    kind = "class-names+lm"

    def shown(self, pairs: Sequence[Pair]) -> list[str]:
        """The exact question each pair puts to the LM."""
        def readable(name: str) -> str:
            return name.replace("_", " ")

        return [(NAME_DIFFERENCE if p.kind == "difference" else NAME_COMMONALITY)
                .format(first=readable(p.classes[0]), second=readable(p.classes[1])) for p in pairs]

    def answer(self, pairs: Sequence[Pair]) -> list[str]:
        return self.ask(self.shown(pairs))


BATCH_SIZE = 8  # questions per generate call: greedy answers of a batch can differ from unbatched ones


def lm_asker(lm: Any, max_new_tokens: int = 48, batch_size: int = BATCH_SIZE) -> Ask:
    """A :class:`~steervis.lm.model.LanguageModel` as an :data:`Ask`: each question in its chat template
    (or on a line of its own), the answer started as a bullet list, written greedily."""
    from steervis.lm.chat import ChatFormat, render_chat, template_or
    from steervis.lm.generate import generate

    fmt = template_or(lm.tokenizer, ChatFormat("question-line", user="{text}\n"))

    def ask(questions: list[str]) -> list[str]:
        prompts = [lm.prompt(render_chat(lm.tokenizer, fmt, [(q, None)]) + ANSWER_PREFIX) for q in questions]
        answers = generate(lm, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size)
        return [ANSWER_PREFIX + a for a in answers]

    return ask


def asker_settings(max_new_tokens: int = 48, batch_size: int = BATCH_SIZE) -> dict[str, Any]:
    """What :func:`lm_asker` does besides the model and the questions: the verbalization cache's settings."""
    return {"asker": "chat template or question line, greedy", "answer_prefix": ANSWER_PREFIX,
            "max_new_tokens": max_new_tokens, "batch_size": batch_size}


@dataclass
class Verbalized:
    """What a verbalizer said: the criteria kept, the share dropped for naming a class, and every answer."""

    criteria: list[Criterion]
    dropped_share: float
    answers: list[str]


def verbalize(verbalizer: Verbalizer, pairs: Sequence[Pair], classes: Sequence[str]) -> Verbalized:
    """Answers → criteria (differences → contrasts, commonalities → questions), merged, class-naming ones
    dropped."""
    answers = verbalizer.answer(pairs)
    found = [c for p, a in zip(pairs, answers, strict=True)
             for c in (parse_differences(a, p.classes) if p.kind == "difference"
                       else parse_commonalities(a, p.classes[:1]))]
    kept, dropped = drop_class_naming(merge(found), classes)
    log.info("VRL: %d answers → %d criteria (%.0f%% dropped for naming a class)", len(answers), len(kept),
             100 * dropped)
    return Verbalized(kept, dropped, list(answers))


def shuffle_criteria(criteria: Sequence[Criterion], seed: int = 0) -> list[Criterion]:
    """The shuffled control: every criterion keeps its form and length, its words drawn from all criteria's
    words at random, so what changes is only whether a criterion's words belong together."""
    words = [w for c in criteria for p in c.phrases() for w in p.split()]
    order = iter(np.random.default_rng(seed).permutation(len(words)))

    def shuffled(phrase: str) -> str:
        return " ".join(words[next(order)] for _ in phrase.split())

    out = [replace(c, text=shuffled(c.text), versus=shuffled(c.versus) if c.versus else "") for c in criteria]
    return merge(out)
