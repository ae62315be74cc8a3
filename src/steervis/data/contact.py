"""Contact sheets: one PNG per domain, a row of thumbnails per class with its label, for checking by eye.

>>> import tempfile
>>> from steervis.data.synthetic import make_toy_dataset
>>> from steervis.data.contact import contact_sheets
>>> root = make_toy_dataset(tempfile.mkdtemp())
>>> [p.name for p in contact_sheets(root, tempfile.mkdtemp())]
['photo.png', 'sketch.png']
"""

from __future__ import annotations

from pathlib import Path

from steervis.data.images import open_image, write_png
from steervis.data.manifest import read_manifest

LABEL_WIDTH = 130
# 12 thumbnails per class row keep a 40-class sheet near 1000x2700 px: readable when viewed whole.
PER_ROW = 12


def contact_sheet(root: str | Path, domain: str, out: str | Path, thumb: int = 64,
                  per_row: int = PER_ROW) -> Path:
    """Write the contact sheet of one ``domain`` of a dataset with a manifest; returns its path."""
    from PIL import Image, ImageDraw, ImageFont

    root, out = Path(root), Path(out)
    frame = read_manifest(root)
    frame = frame[frame["domain"] == domain]
    classes = sorted(frame["class"].unique())
    pad = 4
    width = LABEL_WIDTH + per_row * (thumb + pad)
    sheet = Image.new("RGB", (width, max(1, len(classes)) * (thumb + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=15)
    for row, cls in enumerate(classes):
        y = pad + row * (thumb + pad)
        paths = sorted(frame[frame["class"] == cls]["path"])
        draw.text((6, y + thumb // 2 - 9), f"{cls} ({len(paths)})", fill="black", font=font)
        for col, rel in enumerate(paths[:per_row]):
            img = open_image(root / rel)
            img.thumbnail((thumb, thumb))
            x = LABEL_WIDTH + col * (thumb + pad)
            sheet.paste(img, (x + (thumb - img.width) // 2, y + (thumb - img.height) // 2))
        draw.line([(0, y + thumb + pad // 2), (width, y + thumb + pad // 2)], fill=(220, 220, 220))
    write_png(sheet, out)
    return out


def contact_sheets(root: str | Path, out_dir: str | Path, thumb: int = 64) -> list[Path]:
    """One contact sheet per domain of ``root`` into ``out_dir/<domain>.png``."""
    frame = read_manifest(root)
    return [contact_sheet(root, d, Path(out_dir) / f"{d}.png", thumb)
            for d in sorted(frame["domain"].unique())]
