"""The knowledge pool: image–text pairs from registry packages; no evaluation image, nor anything near one.

Sources and their words: see :mod:`steervis.data.pool.sources`; what is excluded and why: see
:mod:`steervis.data.pool.exclude`. Output, like minidomains: normalised PNGs (RGB on white, longest side
≤ 256 px) under ``<root>/<source>/<shard>/<id>.png``, ``manifest.parquet`` (path, text, title, description,
keywords, source, licence, sha256, phash, concept, origin, ...), ``counts.csv`` (files and concepts per
source, exclusions) and ``excluded.csv``; contact sheets go to ``STEERVIS_HOME/data/pool-contact`` (see
:func:`contact_dir`). The build's steps live beside this file: what it reads (:mod:`.candidates`), which
candidates it keeps (:mod:`.selection`) and what it reports (:mod:`.report`).

The build is deterministic (same packages and evaluation folders → byte-identical manifest), atomic (it
works in ``<root>.partial-<recipe>``, writes the manifest last and renames) and resumable (images finished
before a kill are reused). ``max_items`` builds a deterministic, source-balanced subset for tests.

>>> from steervis.data.pool import build_pool
>>> root = build_pool(max_items=200)  # doctest: +SKIP
>>> import pandas as pd; pd.read_csv(root / "counts.csv").set_index("source")["files"].sum()  # doctest: +SKIP
200
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from steervis.data.images import BadImage, crop_to_content, fit, open_image, to_rgb
from steervis.data.manifest import MANIFEST_NAME, write_manifest
from steervis.data.pool import sources as ps
from steervis.data.pool.candidates import (
    collect_candidates,
    default_eval_folders,
    eval_mapping,
    fetch_pool_trees,
    source_queues,
)
from steervis.data.pool.exclude import EvalSet, add_folder
from steervis.data.pool.report import contact_sheets, counts_table, write_excluded
from steervis.data.pool.selection import select_pairs
from steervis.data.staging import build_lock, prune, staging_dir, swap_in
from steervis.errors import SteervisError
from steervis.paths import cache_dir

if TYPE_CHECKING:
    import pandas as pd
    from PIL import Image as PILImage

log = logging.getLogger(__name__)

# Same size as minidomains, so a pool image and an evaluation image of one drawing look alike to a model.
MAX_SIDE = 256
# SVG drawings are rendered at twice the final size, cropped to their content, then shrunk: small objects in
# large canvases still fill the frame at full sharpness.
VECTOR_RENDER = 2 * MAX_SIDE
# Bump when rendering changes, so a resumed build does not reuse images made the old way.
BUILD_VERSION = 1
COLUMNS = ("path", "text", "title", "description", "keywords", "category", "lang", "source", "package",
           "licence", "sha256", "phash", "phash_ink", "concept", "origin")
BUILD_INFO = "build.json"


def pool_root() -> Path:
    """Default location: ``STEERVIS_HOME/data/pool``."""
    return cache_dir("data") / "pool"


@dataclass
class Pool:
    """A built knowledge pool: its rows (``path`` absolute) and its manifest's hash (names what was trained
    on).

    >>> pool = Pool.load()  # doctest: +SKIP
    >>> len(pool), pool.frame.columns[:3].tolist()  # doctest: +SKIP
    (18771, ['path', 'text', 'title'])
    """

    root: Path
    frame: pd.DataFrame
    hash: str

    @classmethod
    def load(cls, root: str | Path | None = None) -> Pool:
        import pandas as pd

        root = Path(root).expanduser() if root else pool_root()
        digest = cls.manifest_hash(root)
        frame = pd.read_parquet(root / MANIFEST_NAME)
        frame["path"] = [str(root / p) for p in frame["path"]]
        return cls(root, frame, digest)

    @staticmethod
    def manifest_hash(root: str | Path | None = None) -> str:
        """The built pool's manifest hash without reading its rows (names a pool in cache keys)."""
        root = Path(root).expanduser() if root else pool_root()
        path = root / MANIFEST_NAME
        if not path.is_file():
            raise SteervisError(f"No knowledge pool at {root}: build it with `steervis data build pool` "
                                "(`--max-items 500` for a quick one).")
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]

    def __len__(self) -> int:
        return len(self.frame)

    def sources(self) -> list[dict]:
        """Per source: files and licence (what a model card names)."""
        table = self.frame.groupby("source").agg(files=("path", "size"), licence=("licence", "first"))
        return [{"source": s, "files": int(r.files), "licence": r.licence} for s, r in table.iterrows()]


def contact_dir(root: Path | None = None) -> Path:
    """Where the per-source contact sheets go: ``STEERVIS_HOME/data/pool-contact`` for the default pool,
    ``<root>.contact`` beside any other root (never inside the pool's layout)."""
    if root is None or Path(root) == pool_root():
        return cache_dir("data", "pool-contact")
    return Path(root).with_name(f"{Path(root).name}.contact")


def _request(max_items: int | None, exclude: Iterable[str | Path]) -> dict:
    return {"version": BUILD_VERSION, "max_items": int(max_items or 0),
            "exclude": sorted(str(Path(e).expanduser().resolve()) for e in exclude)}


def is_current(root: str | Path, max_items: int | None = None, exclude: Iterable[str | Path] = ()) -> bool:
    """A complete build (manifest present) made with the same ``max_items`` and ``exclude`` folders."""
    root = Path(root)
    if not (root / MANIFEST_NAME).is_file():
        return False
    try:
        return json.loads((root / BUILD_INFO).read_text()) == _request(max_items, exclude)
    except (OSError, ValueError):
        return False


def _vector(path: str) -> PILImage.Image:
    import cairosvg
    from PIL import Image

    # unsafe=False (default): no external files, no XML entities; embedded data: images only.
    png = cairosvg.svg2png(bytestring=Path(path).read_bytes(), output_width=VECTOR_RENDER)
    with Image.open(io.BytesIO(png)) as img:
        return fit(crop_to_content(to_rgb(img)), MAX_SIDE)


def render(cand: ps.Candidate, font: Path | None = None) -> PILImage.Image:
    """The normalised image of a candidate; an unrenderable SVG falls back to its PNG.

    Raises:
        BadImage: Neither the SVG nor the fallback gives a usable image (e.g. a 13,000 px PNG, whose size
            :func:`open_image` reads from the header before decoding anything).
    """
    from steervis.data.minidomains import render as md_render
    from steervis.data.minidomains_plan import Item

    if cand.kind == "vector":
        try:
            return _vector(cand.src)
        except Exception as err:  # cairosvg raises many types; the PNG of the same drawing is as good
            if not cand.fallback:
                raise BadImage(f"SVG not renderable ({type(err).__name__}: {err})") from None
            log.debug("%s: SVG failed (%s), using %s", cand.origin, err, cand.fallback)
            return fit(crop_to_content(open_image(cand.fallback)), MAX_SIDE)
    if cand.kind == "bitmap":
        return fit(crop_to_content(open_image(cand.src)), MAX_SIDE)
    kind = {"emoji": "svg", "glyph": "glyph"}.get(cand.kind)
    if kind is None:
        raise ValueError(f"unknown candidate kind {cand.kind!r}")
    img = md_render(Item("", "", cand.id, kind, cand.src, cand.package, cand.origin), font)
    crop_to_content(img)  # raises BadImage for a blank render (a glyph the font lacks)
    return img


def build_pool(
    root: str | Path | None = None,
    max_items: int | None = None,
    exclude: Iterable[str | Path] = (),
    force: bool = False,
    progress: bool = True,
) -> Path:
    """Build the knowledge pool (idempotent, atomic, resumable) and print its count table.

    Args:
        root: Output folder (default :func:`pool_root`).
        max_items: Keep only this many pairs: a deterministic sample taking the sources in turn.
        exclude: More evaluation folders (``<domain>/<class>/<image>``); minidomains is always excluded.
        force: Rebuild even if a current build exists (replaced only when the new one is finished).
        progress: Show progress bars and print the count table.

    Returns:
        The pool root, with ``<source>/<shard>/<id>.png``, ``manifest.parquet``, ``counts.csv``,
        ``excluded.csv``.
    """
    root = Path(root).expanduser().resolve() if root else pool_root()
    exclude = [Path(e).expanduser().resolve() for e in exclude]
    if max_items is not None and max_items < 1:
        raise SteervisError(f"--max-items must be at least 1 (got {max_items}).")
    missing = [str(e) for e in exclude if not e.is_dir()]
    if missing:  # checked before anything slow runs
        raise SteervisError(f"--exclude folder(s) {', '.join(missing)} do not exist.")
    request = _request(max_items, exclude)
    if is_current(root, max_items, exclude) and not force:
        return root
    with build_lock(root):
        if is_current(root, max_items, exclude) and not force:
            return root
        folders = default_eval_folders(progress) + exclude
        trees = fetch_pool_trees(progress)
        ev = EvalSet()
        ev.add_mapping(eval_mapping())
        for folder in folders:
            add_folder(ev, folder, progress)
        queues = source_queues(collect_candidates(trees))
        recipe = hashlib.sha256(f"{BUILD_VERSION}/{MAX_SIDE}/{VECTOR_RENDER}".encode()).hexdigest()[:12]
        staging = staging_dir(root, recipe, MANIFEST_NAME)
        font = trees.get("symbola")
        rows, excluded, stats, concepts = select_pairs(queues, staging, ev, lambda cand: render(cand, font),
                                                       max_items, progress)
        prune(staging, {r["path"] for r in rows})
        table = counts_table(stats, concepts)
        table.to_csv(staging / "counts.csv", index=False, lineterminator="\n")
        write_excluded(staging / "excluded.csv", excluded)
        (staging / BUILD_INFO).write_text(json.dumps(request, indent=1) + "\n")
        write_manifest(staging, rows, columns=COLUMNS, sort_by=("path",))  # last write: marks it complete
        swap_in(staging, root)
    sheets = contact_sheets(root, contact_dir(root))
    if progress:
        print(f"pool: {len(rows)} pairs, {table.iloc[-1]['concepts']} concepts → {root}")
        print(table.to_string(index=False))
        print(f"contact sheets: {', '.join(str(s) for s in sheets)}")
    return root
