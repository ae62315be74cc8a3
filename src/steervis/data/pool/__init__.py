"""The knowledge pool: image–text pairs from registry packages, never an evaluation image nor anything near one.

Sources and their words: see :mod:`steervis.data.pool.sources`; what is excluded and why: see
:mod:`steervis.data.pool.exclude`. Output, like minidomains: normalised PNGs (RGB on white, longest side
≤ 256 px) under ``<root>/<source>/<shard>/<id>.png``, ``manifest.parquet`` (path, text, title, description,
keywords, source, licence, sha256, phash, concept, origin, ...), ``counts.csv`` (files and concepts per
source, exclusions) and ``excluded.csv``; contact sheets go to ``STEERVIS_HOME/data/pool-contact`` (see :func:`contact_dir`).

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
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from steervis.data import fetch
from steervis.data.images import BadImage, crop_to_content, fit, open_image, sha256_file, to_rgb, write_png
from steervis.data.manifest import MANIFEST_NAME, write_manifest
from steervis.data.pool import sources as ps
from steervis.data.pool.exclude import PHASH_MAX_DISTANCE, EvalSet, add_folder, hashes
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
    """A built knowledge pool: its rows (``path`` absolute) and its manifest's hash (names what was trained on).

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


def fetch_pool_trees(progress: bool = True) -> dict[str, Path]:
    """Fetch and unpack every pool package; returns the folders the readers start from."""
    debs = ["openclipart-svg", "openclipart-png", "tuxpaint-stamps-default", "fonts-symbola"]
    got = fetch.fetch_sources(debs, progress, desc="fetch pool sources")
    return fetch.check_trees({
        "openclipart": got["openclipart-svg"] / "usr/share/openclipart/svg",
        "openclipart-png": got["openclipart-png"] / "usr/share/openclipart/png",
        "tuxpaint": got["tuxpaint-stamps-default"] / "usr/share/tuxpaint/stamps",
        "twemoji": got["twemoji"],
        "openmoji": got["openmoji"],
        "openmoji-black": got["openmoji-npm"] / "black" / "svg",
        "openmoji-json": got["openmoji-npm"] / "data" / "openmoji.json",
        "symbola": got["symbola"],
    }, what="Pool source")


def collect_candidates(trees: dict[str, Path]) -> list[ps.Candidate]:
    """Every candidate pair of every source, in a fixed order."""
    words = ps.load_emoji_words(trees["openmoji-json"])
    cands = ps.openclipart(trees["openclipart"], trees.get("openclipart-png"), ps.english_vocabulary())
    cands += ps.tuxpaint(trees["tuxpaint"])
    for source in ("twemoji", "openmoji", "openmoji-black"):
        cands += ps.emoji_svgs(source, trees[source], words)
    cands += ps.symbola(trees["symbola"], words)
    reserved = {f"{c.source} ({vendor})" for c in cands if (vendor := ps.reserved_vendor(c))}
    if reserved:  # evaluation-only vendors must never enter the pool
        raise SteervisError(f"Reserved evaluation sources reached the pool: {sorted(reserved)}")
    return cands


def default_eval_folders(progress: bool = True) -> list[Path]:
    """Evaluation folders always excluded: minidomains (built first if it is not)."""
    from steervis.data.minidomains import build_minidomains, is_complete, minidomains_root

    if not is_complete(minidomains_root()):
        log.info("the pool excludes minidomains, which is not built yet: building it first")
    return [build_minidomains(progress=progress)]


def eval_mapping() -> dict:
    """minidomains' whole mapping (``extra_classes`` too): every item it could ever put in an evaluation."""
    from steervis.data.minidomains import load_sources

    return load_sources(extra=True)


def source_queues(cands: list[ps.Candidate]) -> list[list[ps.Candidate]]:
    """One queue per source (sorted by name), each in a fixed pseudo-random order (sha1 of source/id)."""
    by_source: dict[str, list[ps.Candidate]] = defaultdict(list)
    for cand in cands:
        by_source[cand.source].append(cand)
    return [sorted(v, key=lambda c: hashlib.sha1(f"{c.source}/{c.id}".encode()).hexdigest())
            for _, v in sorted(by_source.items())]


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
    from steervis.data.minidomains import Item
    from steervis.data.minidomains import render as md_render

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


def _row(cand: ps.Candidate, digest: str, h: tuple[int, int]) -> dict:
    return {"path": cand.rel, "text": cand.text, "title": cand.title, "description": cand.description,
            "keywords": ", ".join(cand.keywords), "category": cand.category, "lang": cand.lang,
            "source": cand.source, "package": cand.package, "licence": ps.SOURCES[cand.source][1],
            "sha256": digest, "phash": f"{h[0]:016x}", "phash_ink": f"{h[1]:016x}", "concept": cand.concept,
            "origin": cand.origin}


def _make(cand: ps.Candidate, staging: Path, font: Path | None) -> tuple[PILImage.Image, str | None]:
    """The candidate's image and, when an interrupted run already wrote it, that file's sha256."""
    out = staging / cand.rel
    if out.is_file():
        return open_image(out), sha256_file(out)
    return render(cand, font), None


def counts_table(stats: dict[str, dict[str, int]], concepts: dict[str, set[str]]) -> pd.DataFrame:
    """Per-source counts (examined, excluded by origin / by phash, failed, duplicates, files, concepts)."""
    import pandas as pd

    cols = ["examined", "excluded_origin", "excluded_phash", "failed", "duplicate", "files", "concepts"]
    rows = [{"source": s, **{c: stats[s].get(c, 0) for c in cols[:-1]}, "concepts": len(concepts[s])}
            for s in sorted(stats)]
    total = {"source": "total", **{c: sum(r[c] for r in rows) for c in cols[:-1]},
             "concepts": len(set().union(*concepts.values())) if concepts else 0}
    return pd.DataFrame(rows + [total], columns=["source", *cols])


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
        The pool root, with ``<source>/<shard>/<id>.png``, ``manifest.parquet``, ``counts.csv``, ``excluded.csv``.
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
        rows, excluded, stats, concepts = _run(queues, staging, ev, trees.get("symbola"), max_items, progress)
        prune(staging, {r["path"] for r in rows})
        table = counts_table(stats, concepts)
        table.to_csv(staging / "counts.csv", index=False, lineterminator="\n")
        _write_excluded(staging / "excluded.csv", excluded)
        (staging / BUILD_INFO).write_text(json.dumps(request, indent=1) + "\n")
        write_manifest(staging, rows, columns=COLUMNS, sort_by=("path",))  # last write: marks it complete
        swap_in(staging, root)
    sheets = contact_sheets(root, contact_dir(root))
    if progress:
        print(f"pool: {len(rows)} pairs, {table.iloc[-1]['concepts']} concepts → {root}")
        print(table.to_string(index=False))
        print(f"contact sheets: {', '.join(str(s) for s in sheets)}")
    return root


def _run(queues: list[list[ps.Candidate]], staging: Path, ev: EvalSet, font: Path | None, max_items: int | None,
         progress: bool) -> tuple[list[dict], list[dict], dict, dict]:
    """Exclude, render, hash and keep candidates, the sources taking turns to add one kept pair each.

    Taking turns makes any ``max_items`` prefix source-balanced; it stops at ``max_items`` kept pairs.
    """
    from collections import deque

    from tqdm import tqdm

    rows, excluded = [], []
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    concepts: dict[str, set[str]] = defaultdict(set)
    seen: set[str] = set()
    bar = tqdm(total=max_items or sum(map(len, queues)), desc="build pool", unit="pair" if max_items else "item",
               disable=not progress, smoothing=0.05)

    def keep(cand: ps.Candidate) -> bool:
        stat = stats[cand.source]
        stat["examined"] += 1
        bar.update(0 if max_items else 1)
        reason = ev.origin_reason(cand)
        if reason:
            stat["excluded_origin"] += 1
            excluded.append({"source": cand.source, "origin": cand.origin, "by": "origin", "reason": reason})
            return False
        try:
            img, digest = _make(cand, staging, font)
        except Exception as err:  # one broken source file costs one pair, not the build
            stat["failed"] += 1
            log.info("pool: skipped %s/%s: %s", cand.source, cand.origin,
                     err.reason if isinstance(err, BadImage) else f"{type(err).__name__}: {err}")
            return False
        h = hashes(img)
        dist, near = ev.nearest(h)
        if dist <= PHASH_MAX_DISTANCE:
            stat["excluded_phash"] += 1
            excluded.append({"source": cand.source, "origin": cand.origin, "by": "phash",
                             "reason": f"distance {dist} to {near}"})
            return False
        digest = digest or write_png(img, staging / cand.rel)
        if digest in seen:  # the same pixels under another name (Open Clip Art repeats files across folders)
            stat["duplicate"] += 1
            return False
        seen.add(digest)
        stat["files"] += 1
        concepts[cand.source].add(cand.concept)
        rows.append(_row(cand, digest, h))
        bar.update(1 if max_items else 0)
        return True

    pending = [deque(q) for q in queues]
    while any(pending):
        for queue in pending:
            if max_items and len(rows) >= max_items:
                bar.close()
                return rows, excluded, stats, concepts
            while queue and not keep(queue.popleft()):
                pass
    bar.close()
    return rows, excluded, stats, concepts


def _write_excluded(path: Path, excluded: list[dict]) -> None:
    import csv

    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["source", "origin", "by", "reason"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(sorted(excluded, key=lambda r: (r["source"], r["origin"])))


def contact_sheets(root: str | Path, out_dir: str | Path, per_source: int = 48, thumb: int = 96) -> list[Path]:
    """One sheet per source: ``per_source`` thumbnails (a fixed sample) with the start of each text."""
    import pandas as pd
    from PIL import Image, ImageDraw, ImageFont

    root, out_dir = Path(root), Path(out_dir)
    frame = pd.read_parquet(root / MANIFEST_NAME, columns=["path", "text", "source"])
    font = ImageFont.load_default(size=11)
    cols, cell = 8, (thumb + 8, thumb + 28)
    sheets = []
    for source, group in sorted(frame.groupby("source")):
        sample = sorted(group.itertuples(), key=lambda r: hashlib.sha1(r.path.encode()).hexdigest())[:per_source]
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
