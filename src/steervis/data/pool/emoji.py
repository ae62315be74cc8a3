"""Emoji file names and hexcodes as codepoint keys, and the concept an emoji shows: one for every skin tone
and every vendor, so exclusion and concept splits treat them as one thing.
"""

from __future__ import annotations

import re

# Skin-tone modifiers: a variant of the same concept, not another one.
SKIN_TONES = frozenset(range(0x1F3FB, 0x1F400))
# Not part of what an emoji shows: presentation selectors and the zero-width joiner.
JOINERS = frozenset({0xFE0E, 0xFE0F, 0x200D})


def emoji_key(code: str) -> tuple[int, ...]:
    """Codepoints of an emoji file name or hexcode, without presentation selectors (``"33-20e3"`` =
    ``"0033-FE0F-20E3"``)."""
    return tuple(cp for cp in (int(p, 16) for p in re.split(r"[-_ ]", code.strip()) if p)
                 if cp not in (0xFE0E, 0xFE0F))


def emoji_concept(key: tuple[int, ...]) -> str:
    """Concept id shared by skin-tone variants and by every vendor: ``emoji:1F468-200D-1F4BB``."""
    return "emoji:" + "-".join(f"{cp:04X}" for cp in key if cp not in SKIN_TONES)


def emoji_components(key: tuple[int, ...]) -> set[int]:
    """What a sequence depicts: its codepoints without joiners, selectors and skin-tone modifiers."""
    return {cp for cp in key if cp not in JOINERS and cp not in SKIN_TONES}
