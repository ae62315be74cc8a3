"""What one image becomes in language: tags, attributes, captions and where they came from.

The rendered block is the one VLLaVO's instruction template embeds (its ``--used_components`` picks a
subset of the three).

>>> from steervis.vllavo.describe.description import Description
>>> d = Description(tags=[("dog", 0.61), ("puppy", 0.58)], attributes=[("furry", 0.44)], captions=[])
>>> print(d.render())
Tags:
- dog
- puppy
Attributes:
- furry
>>> Description.from_dict(d.to_dict()) == d
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

COMPONENTS = ("tags", "attributes", "captions")
HEADINGS = {"tags": "Tags", "attributes": "Attributes", "captions": "Captions"}


@dataclass
class Description:
    """One image in words.

    Attributes:
        tags: ``(tag, score)`` best first; the score scale depends on the matcher.
        attributes: ``(descriptor, score)`` best first.
        captions: Generated captions (the beam caption first, then sampled ones); empty without a captioner.
        provenance: Backends, versions and the describer config hash that produced this description.
    """

    tags: list[tuple[str, float]] = field(default_factory=list)
    attributes: list[tuple[str, float]] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)

    def render(self, components: list[str] | tuple[str, ...] | None = None) -> str:
        """The ``Tags:\\n- ...\\nAttributes:\\n- ...\\nCaptions:\\n- ...`` block.

        Args:
            components: Which of ``tags``, ``attributes``, ``captions`` to include (default: all). They
                always appear in that canonical order, and empty ones are left out.

        Returns:
            The text block, without a trailing newline; empty if nothing is selected.
        """
        wanted = COMPONENTS if components is None else tuple(components)
        unknown = [c for c in wanted if c not in COMPONENTS]
        if unknown:
            raise ValueError(f"Unknown description component(s) {unknown}; choose from {list(COMPONENTS)}.")
        chosen = [c for c in COMPONENTS if c in wanted and getattr(self, c)]
        lines: list[str] = []
        for comp in chosen:
            items = getattr(self, comp)
            lines.append(f"{HEADINGS[comp]}:")
            lines += [f"- {item[0] if isinstance(item, tuple | list) else item}" for item in items]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (tuples become two-element lists)."""
        return {
            "tags": [[t, float(s)] for t, s in self.tags],
            "attributes": [[a, float(s)] for a, s in self.attributes],
            "captions": list(self.captions),
            "provenance": dict(self.provenance),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Description:
        return cls(
            tags=[(str(t), float(s)) for t, s in data.get("tags", [])],
            attributes=[(str(a), float(s)) for a, s in data.get("attributes", [])],
            captions=[str(c) for c in data.get("captions", [])],
            provenance=dict(data.get("provenance", {})),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Description:
        return cls.from_dict(json.loads(text))
