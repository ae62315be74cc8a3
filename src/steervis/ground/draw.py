"""Detections drawn on their image: a box and its phrase with the score, one colour per phrase; the true boxes
of a scene in dark outline beneath them."""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

# distinguishable on white and on photos (Tableau's ten)
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac"]


def draw_detections(image: Image.Image, detections: Any) -> Image.Image:
    """A copy of ``image`` with each detection's box and ``phrase score`` label."""
    out = image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    colours: dict[str, str] = {}
    width = max(1, round(max(out.size) / 200))  # a 2 px line on a 320 px scene, thicker on photos
    for box, score, phrase in zip(detections.boxes, detections.scores, detections.phrases, strict=True):
        colour = colours.setdefault(phrase, PALETTE[len(colours) % len(PALETTE)])
        x0, y0, x1, y1 = (float(v) for v in box)
        draw.rectangle([x0, y0, x1, y1], outline=colour, width=width)
        label = f"{phrase} {score:.2f}"
        left, top, right, bottom = draw.textbbox((x0, y0), label)
        draw.rectangle([left, top, right + 2, bottom], fill=colour)
        draw.text((x0 + 1, y0), label, fill="white")
    return out


def draw_truth(image: Image.Image, boxes: Any, phrases: list[str]) -> Image.Image:
    """A copy of ``image`` with the true boxes, a dark line inside a white one (seen on any background) and
    the phrase under each box's lower left corner; detections drawn on top stay the coloured ones."""
    out = image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    width = max(1, round(max(out.size) / 200))
    for box, phrase in zip(boxes, phrases, strict=True):
        x0, y0, x1, y1 = (float(v) for v in box)
        draw.rectangle([x0 - width, y0 - width, x1 + width, y1 + width], outline="white", width=width)
        draw.rectangle([x0, y0, x1, y1], outline="#222222", width=width)
        left, top, right, bottom = draw.textbbox((x0, y1 + width), phrase)
        draw.rectangle([left, top, right + 2, bottom], fill="#222222")
        draw.text((x0 + 1, y1 + width), phrase, fill="white")
    return out
