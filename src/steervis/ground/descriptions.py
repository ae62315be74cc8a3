"""Descriptions that never name the class (DesCo, Li et al. 2023): what an object looks like or what it goes
with, written without its name, so a grounder must read the description rather than spot a known word.

Two sources, both rewritten by :func:`unname` and checked by the project's one rule for whether a text names
a class (:func:`steervis.classes.names_class`: the name and its plurals, whole words; synonyms are not
known offline, so a synonym left in a text is not caught):

* the pool texts of the concept's objects (``"a line-art emoji of a police car light. keywords: alarm,
  beacon"``): the head with the name replaced by a placeholder, the description sentence, and the keywords
  that do not name it, cut to a few words (``"a line-art emoji of a police car thing, alarm, beacon"``);
* LM-written visual descriptors (by-description's YAML cache, or your own file), rewritten the same way.

A text that still names the class after the rewrite is dropped; a concept left with nothing falls back to its
name (counted in :attr:`Descriptions.fallback`). Prompts split phrases at full stops, so none is kept.

>>> unname("two red apples on an apple tree", "apple")
'two red things on a thing tree'
>>> pool_description("a drawing of a fire truck. keywords: truck, red, rescue", "truck", words=8)
'a drawing of a fire thing, red, rescue'
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from steervis.classes import SEPARATORS, class_pattern, class_words, names_class
from steervis.errors import SteervisError

PLACEHOLDER = "thing"  # what a removed name becomes: keeps the phrase's grammar ("a fire thing")
MAX_WORDS = 12  # a description of ~16 tokens: four fit a 128-token encoder window with their separators
PER_CONCEPT = 8  # descriptions kept per concept: enough variety for training, a bounded cache
KEYWORDS = 4  # keywords of a pool text kept (the first ones: the pool writes the telling ones first)
FILLER = frozenset({"a", "an", "the", "of", PLACEHOLDER, "things", "something", "with"})
_AN = re.compile(rf"\b([Aa])n (?={PLACEHOLDER})")


def unname(text: str, *names: str) -> str:
    """``text`` with every place it names one of ``names`` (:func:`steervis.classes.class_pattern`) replaced
    by the placeholder, full stops turned into commas and spaces collapsed."""
    for name in names:
        if name:
            singular = class_words(name)[0] if class_words(name) else ""
            text = class_pattern(name).sub(lambda m, s=singular: PLACEHOLDER if SEPARATORS.sub(
                " ", m.group(0).lower()) == s else PLACEHOLDER + "s", text)
    text = _AN.sub(r"\1 ", text.replace(".", ","))
    return re.sub(r"\s*,\s*(,\s*)*", ", ", " ".join(text.split())).strip(" ,;:")


def _cut(text: str, words: int) -> str:
    return " ".join(text.split()[:words]).strip(" ,;:")


def informative(text: str) -> bool:
    """Whether a text says more than the pool's style lead and the placeholder ("a drawing of a thing", "a
    clipart of things" say nothing)."""
    from steervis.data.pool.text import STYLE_LEAD

    text = text.lower()
    lead = STYLE_LEAD.match(text)
    return any(w not in FILLER for w in re.findall(r"[\w'-]+", text[lead.end() if lead else 0 :]))


def pool_description(text: str, name: str, phrase: str = "", words: int = MAX_WORDS) -> str | None:
    """One pool text of concept ``name`` (``phrase``: the object's own pool name) as a description that does
    not name it; None when nothing informative is left or the rewrite still names it."""
    from steervis.data.pool.text import parse_pair_text

    pair = parse_pair_text(text)
    kept = [k for k in pair.keywords if not names_class(k, name) and not (phrase and names_class(k, phrase))]
    parts = [pair.head, pair.description, *kept[:KEYWORDS]]
    out = _cut(unname(", ".join(p for p in parts if p), name, phrase), words)
    return out if informative(out) and not names_class(out, name) else None


def descriptor_description(descriptor: str, name: str, words: int = MAX_WORDS) -> str | None:
    """An LM-written descriptor ("a long curved tail") as a description without the name, or None."""
    out = unname(str(descriptor), name)
    out = _cut(out if len(out.split()) > 2 else f"something with {out}", words)
    return out if informative(out) and not names_class(out, name) else None


@dataclass
class Descriptions:
    """Each concept's descriptions (best first); the concepts that fell back to their name."""

    texts: dict[str, list[str]] = field(default_factory=dict)
    fallback: list[str] = field(default_factory=list)
    key: str = ""  # the artifact key they were built (and cached) under

    def of(self, name: str) -> list[str]:
        """A concept's descriptions, or its name alone when it has none."""
        return self.texts.get(name) or [name]


def build_descriptions(names: Sequence[str], pool: Iterable[tuple[str, str, str]] = (),
                       descriptors: dict[str, list[str]] | None = None,
                       words: int = MAX_WORDS) -> Descriptions:
    """Descriptions of ``names`` from ``pool`` rows ``(name, phrase, pool text)`` (the most frequent texts
    first, then alphabetical) and LM ``descriptors``; none of them names its concept."""
    counts: dict[str, Counter] = {n: Counter() for n in names}
    for name, phrase, text in pool:
        if name in counts:
            found = pool_description(text, name, phrase, words)
            if found:
                counts[name][found] += 1
    out = Descriptions()
    for name in names:
        ranked = [t for t, _ in sorted(counts[name].items(), key=lambda kv: (-kv[1], kv[0]))]
        written = (descriptor_description(x, name, words) for x in (descriptors or {}).get(name, []))
        ranked += [d for d in written if d and d not in ranked]
        if ranked:
            out.texts[name] = ranked[:PER_CONCEPT]
        else:
            out.fallback.append(name)
    return out


def read_descriptors(path: str | Path) -> dict[str, list[str]]:
    """A YAML file of ``class: [descriptor, ...]`` (by-description's cache or your own)."""
    import yaml

    file = Path(path).expanduser()
    try:
        known = yaml.safe_load(file.read_text()) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise SteervisError(f"Descriptor file {file} is not readable YAML ({type(err).__name__}).") from None
    if not isinstance(known, dict) or not all(isinstance(v, list) for v in known.values()):
        raise SteervisError(f"Descriptor file {file} is not a mapping of class names to lists of "
                            "descriptors.")
    return {str(k): [str(d) for d in v] for k, v in known.items()}


def scene_pool_rows(folder: Path, part: str) -> list[tuple[str, str, str]]:
    """``(name, phrase, pool text)`` of the objects of a scenes split's part (its ``objects.parquet``)."""
    import pandas as pd

    objects = pd.read_parquet(folder / "objects.parquet", columns=["part", "name", "phrase", "text"])
    if part != "all":
        objects = objects[objects["part"] == part]
    return list(zip(objects["name"], objects["phrase"], objects["text"], strict=True))


def cached_descriptions(names: Sequence[str], pool: Sequence[tuple[str, str, str]],
                        descriptors: dict[str, list[str]] | None = None,
                        words: int = MAX_WORDS) -> Descriptions:
    """:func:`build_descriptions`, kept in ``STEERVIS_HOME/ground-descriptions`` under the one artifact key
    of its inputs (names, pool rows, descriptors) and settings."""
    from steervis.atomic import write_text
    from steervis.identity import artifact_record, stamped
    from steervis.paths import cache_dir
    from steervis.prune import write_record

    inputs = [json.dumps(sorted(names)), json.dumps(sorted(pool)),
              json.dumps(sorted((descriptors or {}).items()))]
    settings = {"words": words, "per": PER_CONCEPT, "placeholder": PLACEHOLDER}
    record = stamped(artifact_record("ground-descriptions", config=settings, inputs=inputs))
    key = record.pop("key")
    path = cache_dir("ground-descriptions") / f"{key}.json"
    try:
        data = json.loads(path.read_text())
        return Descriptions(data["texts"], data["fallback"], key)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not there yet, or damaged: built again (cheap) and written over
    out = build_descriptions(names, pool, descriptors, words)
    write_text(path, json.dumps({"texts": out.texts, "fallback": out.fallback}, ensure_ascii=False))
    write_record(path, key, record)
    out.key = key
    return out


def concept_descriptions(names: Sequence[str], folder: Path, part: str, scenes: bool, descriptors: str = "",
                         words: int = MAX_WORDS) -> Descriptions:
    """The descriptions of a COCO set's categories: the pool texts of its objects when it is a scenes split
    (``scenes``), and the LM descriptors of a ``descriptors`` YAML when one is given."""
    pool = scene_pool_rows(folder, part) if scenes else []
    return cached_descriptions(names, pool, read_descriptors(descriptors) if descriptors else None, words)
