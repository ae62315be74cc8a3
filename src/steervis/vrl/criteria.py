"""VRL's criteria: sentences a person can read and edit, each one number per image.

A criterion is a *question* (an attribute an image has or lacks: "striped fur") or a *contrast* (two
attributes that tell images apart: "striped fur" against "plain fur"). The verbalizer's answers become
criteria (:func:`parse_differences`, :func:`parse_commonalities`); duplicates are merged on normalised text
(:func:`merge`); a criterion that names a class is dropped (:func:`drop_class_naming`), since a feature that
says the answer is no description of what the class looks like.

The criteria file is plain text, one criterion per line, which ``fit`` reads instead of verbalizing:

    # comments and blank lines are ignored
    striped fur | plain fur      # a contrast: "A | B"
    pointed ears                 # a question: does the image show it?

>>> answer = "- striped fur | plain fur\\n- Image 1: long tail; Image 2: short tail"
>>> [c.line() for c in parse_differences(answer, ("a", "b"))]
['striped fur | plain fur', 'long tail | short tail']
>>> [c.text for c in merge([Criterion("Pointed ears."), Criterion("pointed  ears")])]
['Pointed ears.']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from steervis.atomic import write_text
from steervis.classes import names_class
from steervis.errors import SteervisError

KINDS = ("question", "contrast")
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
# "image 1: X; image 2: Y", "X | Y", "X vs Y", "X versus Y": the ways a difference is written
IMAGE_SIDES = re.compile(r"^(?:the\s+)?(?:image|picture|first)\s*1?\s*(?:has|shows|is)?\s*:?\s*"
                         r"(.+?)\s*[;,]\s*(?:while\s+|whereas\s+|but\s+)?"
                         r"(?:the\s+)?(?:image|picture|second)\s*2?\s*(?:has|shows|is)?\s*:?\s*(.+)$",
                         re.IGNORECASE)
# "what image 1 has: X", "image 2 shows: Y": a side labelled with its image, as small LMs echo the question
SIDE_LABEL = re.compile(r"^\s*(?:what\s+)?(?:the\s+)?(?:image|picture)\s*([12])\s*(?:has|shows|is)?\s*:"
                        r"\s*(.*)$", re.IGNORECASE)
VERSUS = re.compile(r"\s+(?:\||vs\.?|versus)\s+|\s*\|\s*", re.IGNORECASE)
MAX_WORDS = 8  # a criterion is a phrase: small LMs ramble on, and a matcher reads a phrase best


@dataclass(frozen=True)
class Criterion:
    """One feature: ``text`` (a question's attribute, or a contrast's first side), ``versus`` (a contrast's
    second side; empty for a question), and ``sources``, the classes of the image pairs it came from."""

    text: str
    kind: str = "question"
    versus: str = ""
    sources: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SteervisError(f"A criterion's kind is {self.kind!r}: it must be one of {', '.join(KINDS)}.")
        if (self.kind == "contrast") != bool(self.versus):
            raise SteervisError(f"Criterion {self.text!r}: a contrast has two sides, a question one.")

    def phrases(self) -> tuple[str, ...]:
        """The texts a matcher embeds: one for a question, two for a contrast."""
        return (self.text, self.versus) if self.versus else (self.text,)

    def line(self) -> str:
        """The criterion as a line of the criteria file (without its sources)."""
        return f"{self.text} | {self.versus}" if self.versus else self.text

    def question(self) -> str:
        """The criterion as a person reads it."""
        if self.versus:
            return f"Does the image show {self.text} rather than {self.versus}?"
        return f"Does the image show {self.text}?"


def normalise(text: str) -> str:
    """Lower case, words only, no leading article: the key duplicates are merged on.

    >>> normalise("  The Pointed-ears. ")
    'pointed ears'
    """
    words = re.findall(r"[^\W_]+", text.lower())
    return " ".join(words[1:] if words and words[0] in ("a", "an", "the") else words)


def _phrase(text: str) -> str:
    """A short clean phrase: markdown, the file's ``#`` and ``|``, trailing punctuation and words past
    :data:`MAX_WORDS` removed."""
    text = re.sub(r"[#|]", " ", text.replace("**", "")).strip().strip("\"'").rstrip(".;:,").strip()
    return " ".join(text.split()[:MAX_WORDS])


def _sides(line: str) -> tuple[list[str], str]:
    """A difference line's sides, each without an echoed "what image N has:" label, and the image a lone
    labelled side speaks of ("1", "2"; "" otherwise)."""
    match = IMAGE_SIDES.match(line)
    sides = [match.group(1), match.group(2)] if match else VERSUS.split(line, maxsplit=1)
    labels = [SIDE_LABEL.match(s) for s in sides]
    sides = [m.group(2) if m else s for m, s in zip(labels, sides, strict=True)]
    sides = [s for s in (_phrase(s) for s in sides) if len(normalise(s)) > 1]
    return sides, labels[0].group(1) if len(labels) == 1 and labels[0] and sides else ""


def parse_differences(answer: str, sources: Sequence[str] = ()) -> list[Criterion]:
    """A difference answer → contrasts; a line with one side only becomes a question, unless it speaks of
    image 1 and the next line of image 2 (small LMs echo "what image 1 has: X" and "what image 2 has: Y" on
    lines of their own): those two are one contrast."""
    found, pending = [], ""  # pending: an image-1 side waiting for its image-2 line

    def add(sides: list[str]) -> None:
        if len(sides) == 2 and normalise(sides[0]) != normalise(sides[1]):
            found.append(Criterion(sides[0], "contrast", sides[1], tuple(sources)))
        elif sides:
            found.append(Criterion(sides[0], sources=tuple(sources)))

    for line in answer.splitlines():
        sides, image = _sides(BULLET.sub("", line).strip())
        if pending and image == "2":
            sides = [pending, *sides]
        elif pending:
            add([pending])
        pending = sides[0] if image == "1" else ""
        if not pending:
            add(sides)
    add([pending] if pending else [])
    return found


def parse_commonalities(answer: str, sources: Sequence[str] = ()) -> list[Criterion]:
    """A commonality answer → questions, one per line ("label: explanation" keeps the label)."""
    found = []
    for line in answer.splitlines():
        item = _phrase(BULLET.sub("", line))
        head, sep, _ = item.partition(":")
        if sep and 0 < len(head.split()) <= 4:
            item = head
        if len(normalise(item)) > 1:
            found.append(Criterion(item, sources=tuple(sources)))
    return found


def _key(c: Criterion) -> tuple[str, ...]:
    # A reversed contrast is the same feature with its sign flipped: one criterion.
    return tuple(sorted((normalise(c.text), normalise(c.versus)))) if c.versus else (normalise(c.text),)


def merge(criteria: Iterable[Criterion]) -> list[Criterion]:
    """Duplicates (same normalised text, a contrast in either order) merged into the first, sources joined."""
    kept: dict[tuple[str, ...], Criterion] = {}
    for c in criteria:
        first = kept.get(_key(c))
        sources = (*first.sources, *c.sources) if first else c.sources
        kept[_key(c)] = replace(first or c, sources=tuple(dict.fromkeys(sources)))
    return list(kept.values())


def drop_class_naming(criteria: Sequence[Criterion], classes: Sequence[str]) -> tuple[list[Criterion], float]:
    """The criteria that name no class (:func:`steervis.classes.names_class`, either side of a contrast), and
    the share dropped."""
    kept = [c for c in criteria if not any(names_class(p, k) for p in c.phrases() for k in classes)]
    return kept, (1 - len(kept) / len(criteria)) if criteria else 0.0


def write_criteria(path: str | Path, criteria: Sequence[Criterion]) -> Path:
    """The criteria file: a header saying how to edit it, then one criterion per line, its sources as a
    comment."""
    head = ["# VRL criteria, one per line: 'A | B' scores an image on A against B; any other line asks",
            "# whether the image shows it. Edit, delete or add lines, then fit with criteria=THIS_FILE."]
    body = [f"{c.line()}  # {', '.join(c.sources)}" if c.sources else c.line() for c in criteria]
    return write_text(Path(path), "\n".join([*head, *body]) + "\n")


def read_criteria(path: str | Path) -> list[Criterion]:
    """Criteria from a file written by :func:`write_criteria` (or by hand); merged, in file order."""
    path = Path(path)
    if not path.is_file():
        raise SteervisError(f"Criteria file {path} does not exist.")
    found = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        body, _, comment = raw.partition("#")
        sources = tuple(s.strip() for s in comment.split(",") if s.strip())
        if "|" in body:
            a, _, b = (s.strip() for s in body.partition("|"))
            if not a or not b:
                raise SteervisError(f"{path}: the line {raw.strip()!r} has an empty side: write 'A | B'.")
            found.append(Criterion(a, "contrast", b, sources))
        elif body.strip():
            found.append(Criterion(body.strip(), sources=sources))
    if not found:
        raise SteervisError(f"Criteria file {path} holds no criterion: write one per line.")
    return merge(found)
