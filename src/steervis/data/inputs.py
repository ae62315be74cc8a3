"""What a user points ``steervis predict`` at (an image, a folder, a manifest) → rows with ``path`` and ``sha256``.

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


def _image_rows(paths: list[Path]) -> pd.DataFrame:
    from steervis.data.images import BadImage, open_image, sha256_file

    rows = []
    for path in paths:
        try:
            open_image(path)
        except BadImage as err:
            if len(paths) == 1:
                raise SteervisError(f"{path} cannot be used: {err.reason}.") from None
            log.warning("skipping %s: %s", path, err.reason)
            continue
        rows.append({"path": str(path.resolve()), "domain": path.parent.name, "sha256": sha256_file(path)})
    return pd.DataFrame(rows, columns=["path", "domain", "sha256"])


def frame_from_input(target: str | Path) -> pd.DataFrame:
    """Rows to predict from an image file, a folder of images (searched recursively) or a manifest.

    A manifest is ``manifest.parquet`` (paths relative to its folder) or a CSV/Parquet file with a ``path``
    column; a folder holding ``manifest.parquet`` is read through it.
    """
    target = Path(target).expanduser()
    if not target.exists():
        raise SteervisError(f"{target} does not exist: give an image, a folder of images or a manifest.")
    if target.is_dir() and (target / "manifest.parquet").exists():
        target = target / "manifest.parquet"
    if target.suffix in (".parquet", ".csv"):
        frame = pd.read_parquet(target) if target.suffix == ".parquet" else pd.read_csv(target)
        if "path" not in frame:
            raise SteervisError(f"The manifest {target} has no 'path' column.")
        frame = frame.copy()
        frame["path"] = [str(p if Path(p).is_absolute() else (target.parent / p).resolve()) for p in frame["path"]]
        if "sha256" not in frame:
            from steervis.data.images import sha256_file

            frame["sha256"] = [sha256_file(p) for p in frame["path"]]
        return frame.reset_index(drop=True)
    if target.is_dir():
        paths = sorted(p for p in target.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise SteervisError(f"No images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {target}.")
        return _image_rows(paths)
    return _image_rows([target])
