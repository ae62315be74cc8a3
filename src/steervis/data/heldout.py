"""The one list of held-out concepts: names no trainer ever sees, chosen once from the knowledge pool.

A pool item's *concept name* is the head noun of the name its text leads with (:func:`concept_name`): "a
drawing of a full moon" → ``moon``, "an emoji of a dog face" → ``dog`` (a part word such as "face" or
"head" hands the name to the word before it), so the "dog" clip art and the "dog face" emoji are one concept
though the pool gives them two concept ids. A seeded ~10 % of the pool's concept names
(:func:`choose_heldout`), never a minidomains class (those classes stay trainable, only minidomains' own
images are kept out, as the web data behind CLIP holds dogs but not PACS's dogs), is committed in
``heldout_concepts.txt`` beside this file; :func:`load_heldout` reads it. Derive it again with::

    python -c "from steervis.data.heldout import write_heldout; write_heldout()"

Whether a text names a held-out concept is the shared rule of :func:`steervis.classes.names_class` (whole
words, plurals included). Pool objects that are perceptual-hash near-duplicates (the pool's own rule:
either 64-bit hash within :data:`~steervis.data.pool.exclude.PHASH_MAX_DISTANCE` bits) of a held-out object
are held out too (:func:`heldout_rows`). :func:`violations` checks a training manifest against the list, the
held-out objects and the evaluation images (:func:`forbidden_images`).

>>> concept_name("a drawing of a full moon. keywords: night"), concept_name("an emoji of a dog face")
('moon', 'dog')
>>> held = HeldOut(["dog"])
>>> held.named("two dogs and a cat"), held.named("a hotdog stand")
('dog', None)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from steervis.classes import IRREGULAR_PLURALS, class_words, names_class
from steervis.data.pool.text import parse_pair_text

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from steervis.data.pool.exclude import EvalSet

HELDOUT_FILE = Path(__file__).with_name("heldout_concepts.txt")
# ~10 % of the names: enough held-out concepts for a test split, few enough that training keeps most words.
HELDOUT_FRACTION = 0.1
HELDOUT_SEED = 0
# Words naming a part or a rendering of the thing before them: "dog face", "cat head", "heart symbol".
PART_WORDS = frozenset({"face", "head", "symbol", "sign", "icon", "silhouette", "outline", "emoji", "logo",
                        "clipart", "cartoon", "drawing", "shape", "button", "mark", "sticker"})
# Where a name's head ends: "cup of coffee", "sun with face", "man in tuxedo", "cat and dog".
_QUALIFIER = re.compile(r"\b(?:of|with|in|on|at|for|and|from|without)\b|[:,(]")
# Adjectives of feeling that come before "face" in emoji names ("angry face" is a face, not an "angry").
FEELINGS = frozenset({
    "angry", "happy", "sad", "sleepy", "silly", "crazy", "worried", "neutral", "zany", "expressionless",
    "nerd", "weary", "tired", "hot", "cold", "upside", "down", "woozy", "dizzy", "confused", "pensive"})
SINGULAR = {plural: word for word, plural in IRREGULAR_PLURALS.items()}
# Nouns that are plural in form only: one pair of scissors is "scissors".
PLURAL_ONLY = frozenset({"scissors", "glasses", "trousers", "pants", "jeans", "shorts", "pliers", "tongs",
                         "binoculars", "goggles", "headphones", "clothes", "news", "dice"})
_WORD = re.compile(r"[^\W\d_]+")  # letters only: a name's digits ("fc13") name no concept


def singular(word: str) -> str:
    """A plural noun's singular by the inverse of :func:`steervis.classes.plurals`' rules (else unchanged).

    >>> [singular(w) for w in ("dogs", "berries", "boxes", "mice", "bus", "glass", "leaves", "scissors")]
    ['dog', 'berry', 'box', 'mouse', 'bus', 'glass', 'leaf', 'scissors']
    """
    if word in SINGULAR or word in PLURAL_ONLY:
        return SINGULAR.get(word, word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("ves") and word[:-3] in ("lea", "wol", "shel", "hal", "cal", "loa"):
        return word[:-3] + "f"
    if len(word) > 3 and word.endswith(("ses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def head_noun(name: str) -> str:
    """The head noun of a short English name, singular; ``""`` when it has no word of letters.

    >>> [head_noun(n) for n in ("two red apples", "dog face", "cup of coffee", "grinning face",
    ...                         "smiling face with heart-eyes", "woman in lotus position")]
    ['apple', 'dog', 'cup', 'face', 'face', 'woman']
    """
    words = _WORD.findall(_QUALIFIER.split(name.lower(), 1)[0])
    while len(words) > 1 and words[-1] in PART_WORDS and not _describes(words[-2]):
        words.pop()
    return singular(words[-1]) if words else ""


def _describes(word: str) -> bool:
    """Whether ``word`` before a part word is an adjective ("grinning face" is a face, "dog face" a dog)."""
    return word.endswith(("ing", "ed")) or word in FEELINGS


def concept_name(text: str) -> str:
    """The concept a pool text names: the head noun of its name (``""`` for a text that names nothing)."""
    return head_noun(parse_pair_text(text).name)


def choose_heldout(names: Iterable[str], exclude: Iterable[str] = (), fraction: float = HELDOUT_FRACTION,
                   seed: int = HELDOUT_SEED) -> list[str]:
    """A seeded ``fraction`` of the distinct ``names`` (sorted), never one in ``exclude``.

    Each name's rank is the sha256 of ``seed:name``, so the choice depends on the names, not their order.

    >>> choose_heldout([f"thing{i}" for i in range(50)], fraction=0.1)
    ['thing17', 'thing18', 'thing23', 'thing32', 'thing47']
    """
    banned = {e.lower() for e in exclude}
    pool = sorted({n for n in names if n and n not in banned})
    ranked = sorted(pool, key=lambda n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest())
    return sorted(ranked[: int(fraction * len(pool) + 0.5)])  # half rounds up: 5 names give 1


def minidomains_classes() -> list[str]:
    """Every class minidomains can build (its mapping's classes and extra classes), as head nouns too."""
    from steervis.data.minidomains_plan import load_sources

    classes = list(load_sources(extra=True))
    return sorted({c.replace("_", " ") for c in classes} | {head_noun(c.replace("_", " ")) for c in classes})


def derive_heldout(frame: pd.DataFrame, seed: int = HELDOUT_SEED) -> list[str]:
    """The held-out list of a pool manifest (a frame with ``text``): its concept names, minidomains' out."""
    return choose_heldout((concept_name(t) for t in frame["text"]), minidomains_classes(), seed=seed)


def write_heldout(pool: str | Path | None = None, path: str | Path = HELDOUT_FILE) -> Path:
    """Derive the list from a built pool's manifest and write it (one name a line, sorted)."""
    from steervis.atomic import write_text
    from steervis.data.pool import Pool

    names = derive_heldout(Pool.load(pool).frame)
    return write_text(path, "".join(f"{n}\n" for n in names))


def load_heldout(path: str | Path = HELDOUT_FILE) -> HeldOut:
    """The committed list (an empty list when none is committed yet)."""
    path = Path(path)
    names = path.read_text().split("\n") if path.is_file() else []
    return HeldOut([n.strip() for n in names if n.strip() and not n.startswith("#")])


class HeldOut:
    """A held-out name list and the rule for whether a name or a text names one of them."""

    def __init__(self, names: Sequence[str]):
        self.names = sorted(set(names))
        self.digest = hashlib.sha256("\n".join(self.names).encode()).hexdigest()[:16]
        # phrase (a name or its plural, lower case, single spaces) → the held-out name; for a fast pre-check
        self._phrases = {p: n for n in self.names for p in class_words(n)}
        self._longest = max((len(p.split()) for p in self._phrases), default=0)

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: str) -> bool:
        return self.named(name) is not None

    def named(self, text: str) -> str | None:
        """The first held-out name ``text`` names (:func:`steervis.classes.names_class`), or None."""
        words = re.findall(r"[^\W_]+", text.lower())
        for size in range(1, self._longest + 1):
            for i in range(len(words) - size + 1):
                name = self._phrases.get(" ".join(words[i: i + size]))
                if name is not None and names_class(text, name):  # the shared rule decides
                    return name
        return None


def near_mask(frame: pd.DataFrame, of: pd.DataFrame) -> np.ndarray:
    """Rows of ``frame`` within the pool's pHash threshold of any row of ``of`` (both with ``phash``,
    ``phash_ink`` hex columns): either hash close enough makes a near-duplicate."""
    import numpy as np

    from steervis.data.pool.exclude import PHASH_MAX_DISTANCE

    out = np.zeros(len(frame), dtype=bool)
    if not len(frame) or not len(of):
        return out
    for col in ("phash", "phash_ink"):
        a = np.array([int(h, 16) for h in frame[col]], dtype=np.uint64)
        b = np.array([int(h, 16) for h in of[col]], dtype=np.uint64)
        for start in range(0, len(a), 2048):  # 2048 × |of| distances at a time bounds the memory
            block = np.bitwise_count(a[start: start + 2048, None] ^ b[None, :])
            out[start: start + 2048] |= block.min(axis=1) <= PHASH_MAX_DISTANCE
    return out


def heldout_rows(frame: pd.DataFrame, held: HeldOut) -> np.ndarray:
    """Pool rows held out: a held-out concept name, or a near-duplicate of a row that has one."""
    import numpy as np

    named = np.array([concept_name(t) in held for t in frame["text"]], dtype=bool)
    if "phash" not in frame.columns:  # a pool written without hashes (a test's toy pool): names only
        return named
    return named | near_mask(frame, frame[named])


def forbidden_images(pool: pd.DataFrame | None, held: HeldOut,
                     evaluation: Iterable[str | Path] = ()) -> EvalSet:
    """The images no training set may hold or come near: every held-out pool object (by the hashes in the
    pool manifest) and every image of the ``evaluation`` folders (minidomains, hashed here)."""
    from steervis.data.pool.exclude import EvalSet, add_folder

    images = EvalSet()
    if pool is not None:
        named = [concept_name(t) in held for t in pool["text"]]
        for row in pool[named].itertuples():
            images.hashes.append((int(row.phash, 16), int(row.phash_ink, 16)))
            images.paths.append(f"held-out {row.path}")
    for folder in evaluation:
        add_folder(images, folder)
    return images


def violations(frame: pd.DataFrame, held: HeldOut, forbidden: EvalSet | None = None) -> list[str]:
    """Why a training manifest breaks the held-out rule, one line per bad row (``[]`` when it keeps it).

    ``frame`` holds any of: ``text`` (a pool text: its concept name is checked), ``name``, ``caption`` and
    ``question``/``answer`` (free text: any held-out name in it), and ``phash``/``phash_ink`` (the pixels of
    an object: within the threshold of a :func:`forbidden_images` image is a violation).
    """
    from steervis.data.pool.exclude import PHASH_MAX_DISTANCE

    out = []
    free = [c for c in ("name", "caption", "question", "answer") if c in frame.columns]
    for i, row in enumerate(frame.to_dict("records")):
        if "text" in row and concept_name(str(row["text"])) in held:
            out.append(f"row {i}: held-out concept {concept_name(str(row['text']))!r} ({row['text'][:60]})")
        for col in free:
            name = held.named(str(row[col]))
            if name:
                out.append(f"row {i}: {col} names held-out {name!r} ({str(row[col])[:60]})")
        if forbidden is not None and isinstance(row.get("phash"), str) and row["phash"]:
            dist, near = forbidden.nearest((int(row["phash"], 16), int(row["phash_ink"], 16)))
            if dist <= PHASH_MAX_DISTANCE:
                out.append(f"row {i}: {dist} bits from {near}")
    return out
