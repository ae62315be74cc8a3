"""Vocabularies shipped as package data: visual nouns for tags, descriptors for attributes.

``tags.txt`` was built once by :func:`build_tag_vocabulary` from the WordNet lemmas of the 21k ImageNet
synsets that timm ships (read as data files, timm is never imported) and committed; ``attributes.txt`` is
hand-written (colours, shapes, textures, materials, parts, poses, styles). A user passes their own file
(one entry per line, ``#`` comments) through ``DescribeConfig.tag_vocab`` / ``attribute_vocab``.

>>> from steervis.vllavo.describe.vocab import load_vocabulary
>>> tags = load_vocabulary("tags")
>>> "dog" in tags and len(tags) > 2000
True
>>> len(load_vocabulary("attributes")) > 200
True
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

from steervis.errors import SteervisError

VOCAB_DIR = Path(__file__).parent / "vocab"
BUILTIN = {"tags": VOCAB_DIR / "tags.txt", "attributes": VOCAB_DIR / "attributes.txt"}

# Glosses that mark a synset as a role, an activity or an abstraction rather than a thing one can see.
NOT_VISUAL = re.compile(
    r"\b(who|whom|whose|someone|somebody|person|people|organization|the act|activity|a state of|the practice"
    r"|sport|game in which|informal|slang|executive|officer|leader|worker|expert|specialist|follower|adherent"
    r"|advocate|supporter|resident|citizen|native of|inhabitant|title|rank|a unit of|measure|process)\b",
    re.I,
)
# WordPiece ids of minilm-l6's BERT vocabulary rise roughly with rarity: a cheap offline commonness test.
SINGLE_WORD_MAX_RANK = 20000
PAIR_WORD_MAX_RANK = 6000
# Everyday things the gloss filter or the 21k list misses (people are visual even though glosses say
# "person").
ALWAYS = ("person", "man", "woman", "child", "baby", "people", "crowd", "animal", "giraffe", "zebra", "tiger",
          "building", "vehicle", "toy", "food", "fruit", "vegetable", "plant", "drawing", "cartoon", "sketch")


def vocabulary_path(name_or_path: str) -> Path:
    """``"tags"`` / ``"attributes"`` → the shipped file; anything else is a user file path."""
    path = BUILTIN.get(name_or_path) or Path(name_or_path).expanduser()
    if not path.is_file():
        raise SteervisError(
            f"Vocabulary {name_or_path!r} not found: give 'tags', 'attributes' or a text file with one entry "
            "per line."
        )
    return path


@functools.cache
def _read(path: str, mtime: float) -> tuple[str, ...]:
    entries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries.append(entry)
    return tuple(dict.fromkeys(entries))


def load_vocabulary(name_or_path: str) -> list[str]:
    """Entries of a vocabulary (deduplicated, order kept, blank lines and ``#`` comments dropped)."""
    path = vocabulary_path(name_or_path)
    entries = _read(str(path), path.stat().st_mtime)
    if not entries:
        raise SteervisError(f"Vocabulary {path} holds no entries.")
    return list(entries)


def vocabulary_hash(name_or_path: str) -> str:
    """Content hash of a vocabulary: the cache key depends on what it holds, not where it lives."""
    return hashlib.sha256("\n".join(load_vocabulary(name_or_path)).encode()).hexdigest()[:16]


def build_tag_vocabulary(out: str | Path | None = None) -> list[str]:
    """Rebuild ``tags.txt``: common concrete nouns among the ImageNet-21k WordNet lemmas.

    Keeps, per synset, the first lemma that is one or two lowercase words, each a common WordPiece of the
    minilm-l6 vocabulary, and drops synsets whose gloss names a role, an activity or an abstraction.

    Args:
        out: Where to write the list (default: print nothing, just return it).

    Returns:
        The sorted tag list.
    """
    from steervis.packages import synset_table
    from steervis.zoo.embedded import minilm_dir

    lemmas, glosses = synset_table("lemma"), synset_table("definition")
    rank = {w.strip(): i for i, w in enumerate((minilm_dir() / "vocab.txt").read_text().splitlines())}
    tags: set[str] = set(ALWAYS)
    for synset, names in lemmas.items():
        if NOT_VISUAL.search(glosses.get(synset, "")):
            continue
        for name in (n.strip().lower() for n in names.split(",")):
            words = name.split()
            if not re.fullmatch(r"[a-z]{3,}( [a-z]{3,})?", name):
                continue
            limit = SINGLE_WORD_MAX_RANK if len(words) == 1 else PAIR_WORD_MAX_RANK
            if all(rank.get(w, limit) < limit for w in words):
                tags.add(name)
                break
    result = sorted(tags)
    if out is not None:
        header = ("# Built by steervis.vllavo.describe.vocab.build_tag_vocabulary from timm's ImageNet-21k "
                  "lemmas.\n")
        Path(out).write_text(header + "\n".join(result) + "\n", encoding="utf-8")
    return result
