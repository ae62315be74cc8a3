"""Read any ``<root>/<domain>/<class>/<image>`` folder: PACS, Office-Home, VLCS, DomainNet, minidomains.

Every image is opened and decoded once; broken files land in ``skipped`` with a reason instead of crashing.
Symlinks are followed while they stay inside the dataset folder; one that leads outside it is skipped with a
reason (and one warning) unless ``follow_links``: a link can pull another dataset's, or the held-out, images
in. The same bytes under two classes, or in two domains, are reported in one warning line each.
Every sha256 comes from the hash cache (:mod:`steervis.data.hashes`): a file whose size and mtime are
unchanged is not hashed again, and an image edited after ``manifest.parquet`` was written gets its new hash.

>>> from steervis.data.synthetic import make_toy_dataset
>>> from steervis.data.folder import load_folder
>>> import tempfile
>>> data = load_folder(make_toy_dataset(tempfile.mkdtemp()))
>>> data.domains, data.classes
(['photo', 'sketch'], ['circle', 'square', 'triangle'])
>>> len(data.frame), data.skipped
(24, [])
"""

from __future__ import annotations

import difflib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steervis.data.hashes import HashCache, walk_files
from steervis.data.images import BadImage, open_image
from steervis.data.manifest import MANIFEST_NAME
from steervis.errors import SteervisError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
# Operating-system litter that is never an image and not worth reporting.
IGNORED_NAMES = {"Thumbs.db", "desktop.ini", MANIFEST_NAME}
FOLLOW_HINT = "pass --follow-links (follow_links=True) to read what they lead to"


@dataclass
class FolderData:
    """A labelled multi-domain image folder.

    Attributes:
        frame: One row per usable image: ``path`` (absolute), ``domain``, ``class``, ``sha256``;
            sorted by domain, class, path.
        skipped: ``(path, reason)`` for every file that could not be used.
        classes: Sorted class names.
        domains: Sorted domain names.
        root: The folder that was read.
    """

    frame: pd.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    root: Path | None = None

    def counts(self) -> pd.DataFrame:
        """Images per class (rows) and domain (columns), with totals."""
        return count_table(self.frame)


def count_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Class × domain image counts with a ``total`` row and column."""
    import pandas as pd

    if frame.empty:
        return pd.DataFrame()
    table = pd.crosstab(frame["class"], frame["domain"], margins=True, margins_name="total")
    table.columns.name = None
    table.index.name = "class"
    return table


def _did_you_mean(kind: str, wanted: list[str], present: list[str], root: Path) -> None:
    for name in wanted:
        if name not in present:
            close = difflib.get_close_matches(name, present, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise SteervisError(
                f"No {kind} {name!r} in {root}.{hint} Present: {', '.join(present) or '(none)'}"
            )


def _subdirs(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def _outside(path: Path, root: Path) -> str | None:
    """Where ``path`` really is, if that is outside ``root`` (``root`` is resolved); ``None`` inside it."""
    real = Path(os.path.realpath(path))
    return None if real.is_relative_to(root) else str(real)


def walk_dataset(start: Path, root: Path, follow_links: bool) -> tuple[list[Path], list[tuple[str, str]]]:
    """Every file under ``start`` (a class folder of ``root``) and ``(link, target)`` for each symlink not
    followed because it leads outside ``root``. Each real folder is read once, so a link loop ends."""
    files: list[Path] = []
    refused: list[tuple[str, str]] = []

    def allowed(path: Path) -> bool:
        target = None if follow_links else _outside(path, root)
        if target is not None:
            refused.append((str(path), target))
        return target is None

    if not allowed(start):  # a domain or class folder that is itself a link out of the dataset
        return files, refused
    return walk_files(start, keep_link=allowed), refused


def warn_duplicates(frame: pd.DataFrame, root: Path) -> dict[str, int]:
    """One warning line per kind of duplicate (the same sha256 under two classes, or in two domains), naming
    how many images and an example pair; returns the counts."""
    counts = {}
    for column, what, why in [
        ("class", "under two classes", "one of each pair carries the wrong label"),
        ("domain", "in two domains", "holding out either domain would test on training images, which "
         "`steervis evaluate` refuses"),
    ]:
        spread = frame.groupby("sha256")[column].nunique()
        twice = spread[spread > 1].index
        counts[column] = len(twice)
        if len(twice):
            pair = frame[frame["sha256"] == twice[0]].drop_duplicates(column)["path"].head(2)
            a, b = (Path(p).relative_to(root).as_posix() if Path(p).is_relative_to(root) else p for p in pair)
            log.warning("%d image(s) in %s appear %s with the same bytes, e.g. %s and %s: %s; remove the "
                        "copies (or the symlink that duplicates a folder).",
                        len(twice), root, what, a, b, why)
    return counts


def _known_hashes(root: Path) -> dict[str, str]:
    """Relative path → sha256 from the manifest, if there is a readable one."""
    if not (root / MANIFEST_NAME).exists():
        return {}
    try:
        from steervis.data.manifest import read_manifest

        manifest = read_manifest(root)
        return dict(zip(manifest["path"], manifest["sha256"], strict=True))
    except Exception:  # an unreadable manifest only costs the rehash
        return {}


def _check(path: Path, known: str | None, hashes: HashCache,
           images: Any = None) -> tuple[str | None, str | None]:
    """(sha256, None) for a usable image, (None, reason) otherwise; the decoded image goes into ``images``.

    The manifest's ``known`` sha256 is only a claim: the hash cache checks it against the file as it is now.
    """
    try:
        if images is None:
            open_image(path).close()
            return hashes.sha256(path, known), None
        image = images.decode(path)
        digest = hashes.sha256(path, known)
        images.put(digest, image)
        return digest, None
    except BadImage as err:
        return None, err.reason
    except OSError as err:
        return None, f"unreadable: {err}"


def load_folder(
    root: str | Path,
    domains: list[str] | tuple[str, ...] | None = None,
    classes: list[str] | tuple[str, ...] | None = None,
    workers: int | None = None,
    progress: bool = False,
    images: Any = None,
    follow_links: bool = False,
) -> FolderData:
    """Index and validate ``<root>/<domain>/<class>/<image>``.

    Args:
        root: Dataset folder.
        domains: Only these domains (default: all sub-folders).
        classes: Only these classes (default: every class found in the chosen domains).
        workers: Threads that decode images (default: CPU count, at most 16).
        progress: Show a tqdm progress bar.
        images: A :class:`~steervis.data.decoded.DecodedImages` that keeps the decoded images for the run's
            later steps (describe, features), so each image is decoded once.
        follow_links: Also follow symlinks that lead outside ``root`` (those inside it are always followed).

    Returns:
        A :class:`FolderData`; unusable files are listed in ``skipped``, never raised.

    Raises:
        SteervisError: ``root`` is missing or holds no usable images, or a requested domain/class is absent.
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise SteervisError(
            f"Dataset folder {root} does not exist. Expected <root>/<domain>/<class>/<image>; "
            "build one with `steervis data build minidomains` or `steervis data toy --root DIR`."
        )
    files, outside = _list_files(root, domains, classes, follow_links)
    results = _check_all(root, files, workers, progress, images)
    skipped = [(link, f"a symlink to {target}, outside the dataset folder; {FOLLOW_HINT}")
               for link, target in outside]
    rows = []
    for (path, domain, cls), (digest, reason) in zip(files, results, strict=True):
        if reason is None:
            rows.append({"path": str(path), "domain": domain, "class": cls, "sha256": digest})
        else:
            skipped.append((str(path), reason))
    return _folder_data(root, rows, skipped, len(files))


def _list_files(root: Path, domains: Any, classes: Any,
                follow_links: bool) -> tuple[list[tuple[Path, str, str]], list[tuple[str, str]]]:
    """Every candidate file as (path, domain, class), and the symlinks refused for leading outside ``root``.
    """
    present_domains = _subdirs(root)
    if domains:
        _did_you_mean("domain", list(domains), present_domains, root)
    files: list[tuple[Path, str, str]] = []
    outside: list[tuple[str, str]] = []
    present_classes: set[str] = set()
    for domain in list(domains) if domains else present_domains:
        for cls in _subdirs(root / domain):
            present_classes.add(cls)
            if classes and cls not in classes:
                continue
            found, refused = walk_dataset(root / domain / cls, root, follow_links)
            outside += refused
            files += [(path, domain, cls) for path in found
                      if path.is_file() and not path.name.startswith(".") and path.name not in IGNORED_NAMES]
    if classes:
        _did_you_mean("class", list(classes), sorted(present_classes), root)
    if outside:
        log.warning("%d symlink(s) under %s lead outside it and were not followed, e.g. %s → %s; %s.",
                    len(outside), root, *outside[0], FOLLOW_HINT)
    if not files:
        links = (f"; {len(outside)} symlink(s) leading outside it were not followed ({FOLLOW_HINT})"
                 if outside else "")
        raise SteervisError(
            f"No images found in {root}. Expected the layout <root>/<domain>/<class>/<image> "
            f"(domains found: {', '.join(present_domains) or 'none'}){links}."
        )
    return files, outside


def _check_all(root: Path, files: list[tuple[Path, str, str]], workers: int | None, progress: bool,
               images: Any) -> list[tuple[str | None, str | None]]:
    """(sha256, None) for each decodable image, (None, reason) for any other file, in ``files`` order."""
    known = _known_hashes(root)
    hashes = HashCache()
    with ThreadPoolExecutor(max_workers=workers or min(16, os.cpu_count() or 1)) as pool:
        jobs = pool.map(lambda f: _check(f[0], known.get(f[0].relative_to(root).as_posix()), hashes, images),
                        files)
        if progress:
            from tqdm import tqdm

            jobs = tqdm(jobs, total=len(files), desc=f"checking {root.name}", unit="img")
        return list(jobs)


def _folder_data(root: Path, rows: list[dict[str, str]], skipped: list[tuple[str, str]],
                 n_files: int) -> FolderData:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["path", "domain", "class", "sha256"])
    if frame.empty:
        raise SteervisError(f"None of the {n_files} files under {root} is a readable image; see e.g. "
                            f"{skipped[0][0]}: {skipped[0][1]}")
    frame = frame.sort_values(["domain", "class", "path"], kind="stable").reset_index(drop=True)
    warn_duplicates(frame, root)
    return FolderData(
        frame=frame,
        skipped=sorted(skipped),
        classes=sorted(frame["class"].unique().tolist()),
        domains=sorted(frame["domain"].unique().tolist()),
        root=root,
    )


def summary_text(data: FolderData, max_skipped: int = 20) -> str:
    """The count table plus a skipped-files report, as printed by ``steervis data summary``."""
    lines = [f"{data.root}: {len(data.frame)} images, {len(data.classes)} classes, "
             f"{len(data.domains)} domains", "", count_table(data.frame).to_string(), ""]
    if data.skipped:
        lines.append(f"skipped {len(data.skipped)} file(s):")
        lines += [f"  {path}: {reason}" for path, reason in data.skipped[:max_skipped]]
        if len(data.skipped) > max_skipped:
            lines.append(f"  ... and {len(data.skipped) - max_skipped} more")
    else:
        lines.append("skipped 0 files")
    return "\n".join(lines)
