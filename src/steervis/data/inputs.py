"""What a user points ``steervis predict`` at (an image, a folder, a manifest) → rows with ``path`` and
``sha256``.

>>> import tempfile
>>> from steervis.data.synthetic import make_toy_dataset
>>> from steervis.data.inputs import frame_from_input
>>> len(frame_from_input(make_toy_dataset(tempfile.mkdtemp())))
24
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from steervis.errors import SteervisError

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def _image_rows(paths: list[Path], extra: list[dict] | None = None, strict: bool = False) -> pd.DataFrame:
    """Rows of the usable images among ``paths``; each unusable one is skipped with its reason (``attrs``)."""
    from steervis.data.hashes import HashCache
    from steervis.data.images import BadImage, open_image

    hashes = HashCache()
    rows, skipped = [], []
    for i, path in enumerate(paths):
        info = extra[i] if extra else {}
        reason = info.pop("_skip", None)
        if reason is None:
            try:
                open_image(path).close()
            except BadImage as err:
                reason = err.reason
        if reason is not None:
            if strict:
                raise SteervisError(f"{path} cannot be used: {reason}.")
            log.warning("skipping %s: %s", path, reason)
            skipped.append((str(path), reason))
            continue
        claimed = info.pop("sha256", None)
        rows.append({**info, "path": str(path.resolve()), "domain": info.get("domain", path.parent.name),
                     "sha256": hashes.sha256(path, claimed if isinstance(claimed, str) else None)})
    columns = list(dict.fromkeys(["path", "domain", "sha256", *(k for r in rows for k in r)]))
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs["skipped"] = skipped
    if frame.empty and paths:
        raise SteervisError(f"None of the {len(paths)} inputs is a usable image; e.g. {skipped[0][0]}: "
                            f"{skipped[0][1]}.")
    return frame


def _manifest_rows(target: Path) -> pd.DataFrame:
    """Rows of a manifest; a row whose file is missing, not an image, or outside the manifest's folder is
    skipped."""
    try:
        frame = pd.read_parquet(target) if target.suffix == ".parquet" else pd.read_csv(target)
    except (OSError, ValueError, UnicodeDecodeError) as err:  # pyarrow and the CSV parser raise ValueErrors
        raise SteervisError(f"The manifest {target} cannot be read ({type(err).__name__}): give a .parquet "
                            "or .csv file with a 'path' column.") from None
    if "path" not in frame:
        raise SteervisError(f"The manifest {target} has no 'path' column.")
    folder = target.parent.resolve()
    paths, extra = [], []
    for row in frame.to_dict("records"):
        raw = row.pop("path")
        path = (folder / str(raw)).resolve()  # an absolute path stays itself; symlinks are resolved
        if not isinstance(raw, str) or not raw.strip():
            row["_skip"] = "no path"
        elif not path.is_relative_to(folder):  # ../../etc/passwd: a manifest only reaches its own folder
            row["_skip"] = f"outside the manifest's folder {folder}"
        paths.append(path)
        extra.append(row)
    return _image_rows(paths, extra)


def frame_from_input(target: str | Path) -> pd.DataFrame:
    """Rows to predict from an image file, a folder of images (searched recursively) or a manifest.

    A manifest is ``manifest.parquet`` (paths relative to its folder) or a CSV/Parquet file with a ``path``
    column; a folder holding ``manifest.parquet`` is read through it. Rows that cannot be used (missing file,
    not an image, a path leading outside the manifest's folder) are skipped with a warning and listed in
    ``frame.attrs["skipped"]``; every sha256 is of the file's current bytes (a manifest's is checked).
    """
    from steervis.data.hashes import walk_files

    target = Path(target).expanduser()
    if not target.exists():
        raise SteervisError(f"{target} does not exist: give an image, a folder of images or a manifest.")
    if target.is_dir() and (target / "manifest.parquet").exists():
        target = target / "manifest.parquet"
    if target.suffix in (".parquet", ".csv"):
        return _manifest_rows(target)
    if target.is_dir():
        # follows symlinked folders
        paths = [p for p in walk_files(target) if p.suffix.lower() in IMAGE_SUFFIXES]
        if not paths:
            raise SteervisError(f"No images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {target}.")
        return _image_rows(paths)
    return _image_rows([target], strict=True)
