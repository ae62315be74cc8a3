"""Words for the knowledge pool: Open Clip Art RDF metadata, file names, emoji keys, and the text of a pair.

Real metadata is messy: collection titles shared by thousands of files ("gramastar"), keyword lists that
hold only the author's name or "unsorted", Italian titles. This module turns it into clean fields and one
text per item, keeping the raw fields for callers that want to choose; :func:`parse_pair_text` reads it back.

>>> meta = parse_rdf(b'''<svg xmlns:dc="http://purl.org/dc/elements/1.1/"
...   xmlns:cc="http://web.resource.org/cc/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
...   <metadata><rdf:RDF><cc:Work><dc:title>Full Moon</dc:title>
...   <dc:description>The full moon as it looks from Earth.</dc:description>
...   <dc:subject><rdf:Bag><rdf:li>moon</rdf:li><rdf:li>night</rdf:li></rdf:Bag></dc:subject>
...   </cc:Work></rdf:RDF></metadata></svg>''')
>>> compose_text("a drawing of", meta.title, meta.description, meta.keywords)
'a drawing of a full moon. the full moon as it looks from earth. keywords: moon, night'
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

DC = "{http://purl.org/dc/elements/1.1/}"
CC = "{http://web.resource.org/cc/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"

# Keywords that name a collection, a file format or a catch-all folder rather than what is drawn; the most
# frequent dc:subject values of openclipart-svg 0.18 ("hash" 1,924 files, "magick" 1,375, "mapsym" 283 ...).
NOISE_KEYWORDS = frozenset({
    "unsorted", "hash", "magick", "icons", "theme", "lemon_theme_icon", "mapsym", "appicon", "mime-types",
    "mimetypes", "signs_and_symbols", "special", "clipart", "clip art", "clip-art", "svg", "png", "image",
    "openclipart", "public domain", "publicdomain", "externalsource", "media", "remix", "inkscape",
    "united_nations_member", "r16", "r15", "gold-theme", "plastik-icon-theme", "etiquette",
})
# Titles that say where a file came from, not what it shows ("Clipart by Nicu Buculei - nosmoke" is even
# copied onto unrelated files); such a title is replaced by the file name.
COLLECTION_TITLE = re.compile(
    r"clipart by|collection|iconset|icon set|icon theme|\btheme\b|various cliparts|symbol_signs|"
    r"svg road signs|sibmission|submission|gradient", re.I)
# A title that more files share than this names a set (openclipart-svg: "gramastar" ×1375, "Lemon SVG
# theme" ×431, "card" ×226); real titles repeat at most a few times ("Candy" on numbered variants).
COLLECTION_MIN_FILES = 12
# Italian function words: any of them in a title marks it Italian ("Barattolo di pillole").
ITALIAN_WORDS = frozenset({
    "di", "del", "della", "delle", "dei", "degli", "dello", "con", "per", "il", "lo", "gli", "una", "uno",
    "sulla", "sul", "sulle", "nella", "nel", "alla", "allo", "dal", "dalla", "tra", "fra",
})
# English words with Italian-looking endings that occur in Open Clip Art titles; they keep a title English.
ENGLISH_VOWEL_WORDS = frozenset({
    "piano", "tomato", "potato", "video", "radio", "zero", "hippo", "avocado", "mango", "volcano", "logo",
    "disco", "photo", "auto", "kangaroo", "tornado", "cello", "banjo", "flamingo", "igloo", "studio", "halo",
    "taxi", "ski", "kiwi", "broccoli", "spaghetti", "safari", "origami", "sushi", "bikini", "lasso", "hello",
    "go", "no", "to", "do", "so", "yo-yo", "yoyo", "domino", "torpedo", "buffalo", "gecko", "rhino", "tuxedo",
    "armadillo", "bingo", "lego", "mosquito", "tattoo", "info", "demo", "memo", "echo", "ufo", "pi", "wi-fi",
    "tofu", "menu", "emu", "gnu", "tutu", "haiku", "bamboo", "shampoo", "canoe", "oboe", "toe", "shoe",
})
URL_OR_MAIL = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|hash\(0x[0-9a-f]+\)")
BORING_DESCRIPTIONS = re.compile(r"^(created with (the )?inkscape|no description|none|n/?a|description)\.?$",
                                 re.I)
# Descriptions run from a phrase to a page; two sentences or this many characters carry what matters.
MAX_DESCRIPTION = 200
# compose_text's head is "<style> <name>", or "<style less its last word> titled “<name>”" for a title kept
# as written: style words are an article, words, then "of" or "titled" ("a line-art emoji of", "a drawing
# titled"). A rule, not a list: any source's style ("a sketch of") is recognised.
STYLE_LEAD = re.compile(r"^(?:an?|the) [\w -]+? (of|titled) ")
# What an "of" head shows: after an article, up to a qualifier (": medium skin tone") or the sentence's end.
_NAME = re.compile(r"(?:an? |the )?(.+?)(?::|\.(?:\s|$)|$)")


@dataclass(frozen=True)
class ClipartMeta:
    """The fields of one Open Clip Art SVG's RDF metadata (raw, only HTML entities decoded)."""

    title: str = ""
    description: str = ""
    keywords: tuple[str, ...] = ()
    creator: str = ""


def _clean(text: str | None) -> str:
    return re.sub(r"\s+", " ", html.unescape(text or "")).strip()


def parse_rdf(svg: bytes) -> ClipartMeta:
    """Title, description, keywords (``dc:subject``) and creator from an SVG's ``<metadata>`` block.

    Only the metadata block is parsed (fast, and a broken drawing elsewhere does not lose the words).
    """
    start, end = svg.find(b"<metadata"), svg.find(b"</metadata>")
    if start < 0 or end < 0:
        return ClipartMeta()
    head = svg[: svg.find(b">", svg.find(b"<svg")) + 1] if b"<svg" in svg[:start] else b"<svg>"
    namespaces = b" ".join(re.findall(rb'xmlns:\w+="[^"]*"', head))
    block = svg[start: end + len(b"</metadata>")]
    try:
        meta = ET.fromstring(b"<m " + namespaces + b">" + block + b"</m>")
    except ET.ParseError:
        try:
            meta = ET.fromstring(block)
        except ET.ParseError:
            return ClipartMeta()
    work = meta.find(f".//{CC}Work")
    if work is None:
        return ClipartMeta()
    keywords = tuple(k for k in (_clean(li.text) for li in work.findall(f"{DC}subject//{RDF}li")) if k)
    if not keywords:  # some files hold the subject as plain text: "moon night sky"
        keywords = tuple(_clean(work.findtext(f"{DC}subject")).split())
    return ClipartMeta(
        title=_clean(work.findtext(f"{DC}title")),
        description=_clean(work.findtext(f"{DC}description")),
        keywords=keywords,
        creator=_clean(work.findtext(f"{DC}creator/{CC}Agent/{DC}title")),
    )


def _words(text: str) -> list[str]:
    return re.findall(r"[a-zà-ÿ0-9]+", text.lower())


def clean_keywords(keywords: tuple[str, ...] | list[str], creator: str = "") -> list[str]:
    """Lower-cased, de-duplicated keywords without noise, the author's name or parts of it, ids and mails."""
    author = set(_words(creator))
    out: list[str] = []
    for raw in keywords:
        kw = raw.strip().lower().replace("_", " ")
        words = _words(kw)
        if (not words or kw in NOISE_KEYWORDS or raw.strip().lower() in NOISE_KEYWORDS
                or (author and set(words) <= author) or re.fullmatch(r"0x[0-9a-f]+|[\d\W]+", kw)
                or URL_OR_MAIL.search(kw) or len(kw) > 40):
            continue
        if kw not in out:
            out.append(kw)
    return out


def clean_description(description: str, title: str = "") -> str:
    """The description without mails, links and boilerplate, cut to two sentences; "" when it says nothing."""
    text = URL_OR_MAIL.sub("", description).strip(" .-\n")
    if not text or BORING_DESCRIPTIONS.match(text) or text.lower() == title.lower().strip(" ."):
        return ""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    text = " ".join(sentences[:2])
    return text if len(text) <= MAX_DESCRIPTION else text[:MAX_DESCRIPTION].rsplit(" ", 1)[0] + "…"


def stem_name(stem: str, creator: str = "") -> str:
    """Readable words from a file stem, without the trailing author fragment and numbering.

    >>> stem_name("barattolo_di_pillole_arc_01", "Architetto Francesco Rollandin")
    'barattolo di pillole'
    >>> stem_name("full_moon_dan_gerhards_01", "Dan Gerhards")
    'full moon'
    """
    author = _words(creator)
    tokens = [t for t in re.split(r"[_\-\s.]+", stem.lower()) if t]
    while len(tokens) > 1:
        last = tokens[-1]
        if (any(ch.isdigit() for ch in last) or len(last) <= 1
                or any(a.startswith(last) or last.startswith(a) for a in author if len(a) > 1)):
            tokens.pop()
        else:
            break
    tokens = [t for t in tokens if not any(ch.isdigit() for ch in t)] or tokens
    return " ".join(tokens)


def good_title(title: str, shared_by: int = 1) -> bool:
    """A title names the drawing unless it is empty, a collection name, or shared by many files."""
    return bool(_words(title)) and not COLLECTION_TITLE.search(title) and shared_by < COLLECTION_MIN_FILES


def language(title: str, vocabulary: frozenset[str] | set[str] | None = None) -> str:
    """``"it"`` or ``"en"``, guessed from a title: Italian function words, or Italian-looking unknown words.

    Args:
        title: The title.
        vocabulary: Lower-case English words (e.g. a text model's word-piece vocabulary); with it, a title
            whose words all end in a vowel is Italian only if one of them is not an English word.

    >>> language("Barattolo di pillole"), language("Albero"), language("Full Moon"), language("Piano")
    ('it', 'it', 'en', 'en')
    """
    words = [w for w in _words(title) if not w.isdigit()]
    if any(w in ITALIAN_WORDS for w in words):
        return "it"
    long = [w for w in words if len(w) >= 3 and w not in ENGLISH_VOWEL_WORDS]
    if not long or not all(w[-1] in "aeiouàèéìòù" for w in long):
        return "en"  # Italian nouns and adjectives end in a vowel
    if vocabulary:
        return "it" if any(w not in vocabulary for w in long) else "en"
    # Without a vocabulary: -o/-i endings (albero, fiori) are rare in English.
    return "it" if any(w[-1] in "oiòì" for w in long) else "en"


def title_name(title: str) -> str:
    """A title as a name: numbering glued to words dropped (``"Elefante02"`` → ``"Elefante"``)."""
    return re.sub(r"(?<=[^\W\d_])\d+\b", "", title).strip()


def with_article(name: str) -> str:
    """``"a full moon"``, ``"an owl"``; unchanged when it already starts with a determiner or number."""
    words = name.split()
    if not words:
        return name
    first = words[0].lower()
    if first in {"a", "an", "the", "some", "two", "three", "many", "several", "my", "your"} \
            or first[0].isdigit() or (len(words) == 1 and first.endswith("s") and not first.endswith("ss")):
        return name
    return ("an " if first[0] in "aeiou" else "a ") + name


def compose_text(style: str, name: str, description: str = "", keywords: list[str] | tuple[str, ...] = (),
                 lang: str = "en") -> str:
    """One lower-case text: ``"<style> <name>. <description>. keywords: k1, k2"``.

    An Italian name (``lang="it"``) is kept but quoted as a title, so the English description and keywords
    carry the meaning; the wording stays true when the language guess is wrong.
    """
    name = name.strip().rstrip(".").lower()
    if lang == "it":
        head = f"{style.rsplit(' ', 1)[0]} titled “{name}”" if name else style.rsplit(" ", 1)[0]
    else:
        head = f"{style} {with_article(name)}" if name else style.rsplit(" ", 1)[0]
    parts = [head]
    if description:
        parts.append(description.strip().rstrip(".").lower())
    kws = [k for k in dict.fromkeys(k.lower() for k in keywords) if k and k != name]
    if kws:
        parts.append("keywords: " + ", ".join(kws))
    return ". ".join(parts)


def strip_style_words(head: str) -> str:
    """:func:`compose_text`'s head without its style words (:data:`STYLE_LEAD`): what is shown, not how.

    >>> strip_style_words("a line-art emoji of a goat"), strip_style_words("a drawing titled “murcia”")
    ('a goat', '“murcia”')
    >>> strip_style_words("a drawing")  # a head without a name keeps its words
    'a drawing'
    """
    lead = STYLE_LEAD.match(head)
    return head[lead.end():] if lead and len(head) > lead.end() else head


@dataclass(frozen=True)
class PairText:
    """A pool text split back into :func:`compose_text`'s parts."""

    head: str  # the first sentence, style words included: "an emoji of a goat"
    caption: str  # all before the keyword list, as written: "a drawing of a duck. a yellow duck."
    description: str
    keywords: tuple[str, ...]
    name: str  # lower case: what a "<style> of" head shows, without article and qualifier; else ""


def parse_pair_text(text: str) -> PairText:
    """The parts of a pool text: the inverse of :func:`compose_text` (a name holding ". " ends the head).

    >>> p = parse_pair_text("an emoji of a woman astronaut: dark skin tone. she flies. keywords: space, nasa")
    >>> p.head, p.description, p.keywords, p.name
    ('an emoji of a woman astronaut: dark skin tone', 'she flies', ('space', 'nasa'), 'woman astronaut')
    >>> p.caption
    'an emoji of a woman astronaut: dark skin tone. she flies.'
    """
    head = text.split(". ", 1)[0].strip().rstrip(".")
    caption, _, keywords = text.partition(" keywords:")
    caption = caption.strip()
    lead = STYLE_LEAD.match(caption.lower())
    named = _NAME.match(caption.lower(), lead.end()) if lead and lead.group(1) == "of" else None
    description = caption[len(head):].strip(" .") if caption.startswith(head) else ""
    return PairText(head, caption, description, tuple(k for k in map(str.strip, keywords.split(", ")) if k),
                    named.group(1).strip(" .,") if named else "")


def category_words(folder: str) -> list[str]:
    """Keywords from a package folder path: ``"animals/mammals/dogs"`` → animals, mammals, dogs."""
    out = []
    for part in folder.split("/"):
        word = re.sub(r"^[\d_]+", "", part).replace("_", " ").replace("-", " ").strip().lower()
        if word and word not in NOISE_KEYWORDS and not word.isdigit() and word not in out:
            out.append(word)
    return out
