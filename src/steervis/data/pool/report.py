"""What a pool build reports: the per-source count table, the list of exclusions, and contact sheets.

``counts.csv`` (files, concepts and exclusions per source, and a total row) and ``excluded.csv`` (every
excluded candidate and why) are written into the pool; the contact sheets (a fixed sample of thumbnails per
source, each with the start of its text) go beside it, for a look at what was kept.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from steervis.data.images import open_image, write_png
from steervis.data.manifest import MANIFEST_NAME

if TYPE_CHECKING:
    import pandas as pd


def counts_table(stats: dict[str, dict[str, int]], concepts: dict[str, set[str]]) -> pd.DataFrame:
    """Per-source counts (examined, excluded by origin / by phash, failed, duplicates, files, concepts)."""
    import pandas as pd

    cols = ["examined", "excluded_origin", "excluded_phash", "failed", "duplicate", "files", "concepts"]
    rows = [{"source": s, **{c: stats[s].get(c, 0) for c in cols[:-1]}, "concepts": len(concepts[s])}
            for s in sorted(stats)]
    total = {"source": "total", **{c: sum(r[c] for r in rows) for c in cols[:-1]},
             "concepts": len(set().union(*concepts.values())) if concepts else 0}
    return pd.DataFrame(rows + [total], columns=["source", *cols])


def write_excluded(path: Path, excluded: list[dict]) -> None:
    """``excluded.csv``: source, origin, by (origin or phash) and reason, sorted by source and origin."""
    import csv

    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["source", "origin", "by", "reason"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(sorted(excluded, key=lambda r: (r["source"], r["origin"])))


def contact_sheets(root: str | Path, out_dir: str | Path, per_source: int = 48,
                   thumb: int = 96) -> list[Path]:
    """One sheet per source: ``per_source`` thumbnails (a fixed sample) with the start of each text."""
    import pandas as pd
    from PIL import Image, ImageDraw, ImageFont

    root, out_dir = Path(root), Path(out_dir)
    frame = pd.read_parquet(root / MANIFEST_NAME, columns=["path", "text", "source"])
    font = ImageFont.load_default(size=11)
    cols, cell = 8, (thumb + 8, thumb + 28)
    sheets = []
    for source, group in sorted(frame.groupby("source")):
        order = sorted(group.itertuples(), key=lambda r: hashlib.sha1(r.path.encode()).hexdigest())
        sample = order[:per_source]
        rows = (len(sample) + cols - 1) // cols
        sheet = Image.new("RGB", (cols * cell[0], max(1, rows) * cell[1]), "white")
        draw = ImageDraw.Draw(sheet)
        for i, rec in enumerate(sample):
            x, y = (i % cols) * cell[0] + 4, (i // cols) * cell[1] + 4
            img = open_image(root / rec.path)
            img.thumbnail((thumb, thumb))
            sheet.paste(img, (x + (thumb - img.width) // 2, y + (thumb - img.height) // 2))
            words = rec.text.split(" of ", 1)[-1].split(" titled ", 1)[-1]  # the name, without the style
            draw.text((x, y + thumb + 2), words[:18], fill="black", font=font)
        out = out_dir / f"{source}.png"
        write_png(sheet, out)
        sheets.append(out)
    return sheets
