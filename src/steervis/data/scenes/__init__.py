"""Scenes with known contents: pool objects pasted on canvases, every box, name, colour and position recorded.

steervis' own CLEVR from real drawings: 1–6 objects per canvas cut from pool (or minidomains) images by their
ink mask (:mod:`.objects`), scaled, placed with partial occlusion, sometimes tinted, on a plain or textured
background (:mod:`.compose`); each scene stores its objects' boxes, names (the pool text's head noun), full
pool texts, colours and positions, a reference caption and questions with one-word answers
(:mod:`.questions`). Splits, each with a validation part (its last tenth):

* ``train``: objects of names not on the held-out list (:mod:`steervis.data.heldout`);
* ``test-seen``: new compositions of training objects, and held-out files of training names (``kind``);
* ``test-unseen``: held-out concepts only;
* ``test-styles``: minidomains objects, one style per scene (photo, clipart, cartoon, sketch).

No object of test-seen's held-out files, test-unseen or test-styles is a near-duplicate of a training object.

>>> from steervis.data.scenes import build_scenes
>>> root = build_scenes("train", n=1000)  # doctest: +SKIP
>>> import json; json.loads((root / "counts.json").read_text())["main/train"]["scenes"]  # doctest: +SKIP
900
"""

from __future__ import annotations

import json
from pathlib import Path

from steervis.data.scenes.build import BUILD_INFO, SPLITS, make_split, recipe, recipe_key, tables
from steervis.errors import SteervisError
from steervis.paths import cache_dir

__all__ = ["SPLITS", "build_scenes", "scenes_root", "built_root", "is_current", "contact_dir", "request_of"]


def scenes_root(split: str) -> Path:
    """Default folder of a split: ``STEERVIS_HOME/data/scenes/<split>``."""
    return cache_dir("data", "scenes") / split


def built_root(split: str, root: str | Path | None = None) -> Path:
    """A split's folder (``root``, else the default) once built; else one sentence saying how to build it (a
    build is renamed into place whole, so its scenes.parquet means every file is there)."""
    from steervis.errors import SteervisError

    root = Path(root or scenes_root(split))
    if not (root / "scenes.parquet").exists():
        raise SteervisError(f"The {split} scenes are not built at {root}: run `steervis data build scenes "
                            f"--split {split}` first.")
    return root


def contact_dir() -> Path:
    """Where contact sheets go: ``STEERVIS_HOME/data/scenes-contact`` (never inside a split's folder)."""
    return cache_dir("data", "scenes-contact")


def is_current(root: str | Path, request: dict) -> bool:
    """A finished build of exactly this recipe is at ``root``."""
    root = Path(root)
    try:
        return (root / "scenes.parquet").is_file() and json.loads((root / BUILD_INFO).read_text()) == request
    except (OSError, ValueError):
        return False


def _inputs(split: str, pool: str | Path | None, minidomains: str | Path | None, held):
    """``(held-out list, what the split is made from)``: the list and the manifests' hashes, cheap to get."""
    from steervis.data.heldout import load_heldout
    from steervis.data.images import sha256_file
    from steervis.data.minidomains import is_complete, minidomains_root
    from steervis.data.pool import Pool

    if split not in SPLITS:
        raise SteervisError(f"Unknown scene split {split!r}; choose one of {', '.join(SPLITS)}.")
    if split == "test-styles":
        root = Path(minidomains or minidomains_root()).expanduser()
        if not is_complete(root):
            raise SteervisError(f"test-styles needs minidomains at {root}: run `steervis data build "
                                "minidomains` first.")
        return None, [f"minidomains@{sha256_file(root / 'manifest.parquet')[:16]}"]
    held = held if held is not None else load_heldout()
    if not len(held):
        raise SteervisError("No held-out concept list is committed: derive it from the built pool with "
                            "steervis.data.heldout.write_heldout().")
    return held, [f"pool@{Pool.manifest_hash(pool)}", f"heldout@{held.digest}"]


def _banks(split: str, pool: str | Path | None, minidomains: str | Path | None, held, seed: int):
    """The object banks a split needs."""
    from steervis.data.minidomains import minidomains_root
    from steervis.data.pool import Pool
    from steervis.data.scenes.objects import split_banks, styles_bank

    if split == "test-styles":
        return {"styles": styles_bank(Path(minidomains or minidomains_root()).expanduser())}
    loaded = Pool.load(pool)
    rel = [Path(p).relative_to(loaded.root).as_posix() for p in loaded.frame["path"]]
    return split_banks(loaded.frame.assign(rel=rel), held, seed)


def request_of(split: str, n: int, seed: int = 0, pool: str | Path | None = None,
               minidomains: str | Path | None = None, heldout=None) -> dict:
    """What a build of these settings is computed from (compare with a folder's ``build.json``)."""
    return recipe(split, n, seed, _inputs(split, pool, minidomains, heldout)[1])


def build_scenes(split: str, n: int, root: str | Path | None = None, seed: int = 0, force: bool = False,
                 pool: str | Path | None = None, minidomains: str | Path | None = None, heldout=None,
                 progress: bool = True) -> Path:
    """Build ``n`` scenes of ``split`` (idempotent, resumable, atomic), with COCO and a contact sheet.

    Args:
        split: One of :data:`SPLITS`.
        n: Scenes, validation part included.
        root: Output folder (default :func:`scenes_root`).
        seed: Seed of every scene's random stream.
        force: Rebuild even if this exact build is there.
        pool: The knowledge pool's folder (default: STEERVIS_HOME/data/pool).
        minidomains: minidomains' folder, for test-styles (default: STEERVIS_HOME/data/minidomains).
        heldout: A :class:`~steervis.data.heldout.HeldOut` list (default: the committed one).
        progress: Show a progress bar and print the counts.
    """
    from steervis.data.scenes.build import counts, summary_lines
    from steervis.data.scenes.export import contact_sheet, write_coco
    from steervis.data.staging import build_lock, staging_dir, swap_in

    if n < 1:
        raise SteervisError(f"--n must be at least 1 (got {n}).")
    root = Path(root).expanduser().resolve() if root else scenes_root(split)
    held, sources = _inputs(split, pool, minidomains, heldout)
    request = recipe(split, n, seed, sources)
    if is_current(root, request) and not force:
        return root
    with build_lock(root):
        staging = staging_dir(root, recipe_key(request), "scenes.parquet")
        banks = _banks(split, pool, minidomains, held, seed)
        scenes = make_split(staging, split, n, seed, banks, held, progress)
        frames = tables(scenes)
        for name, frame in zip(("objects", "questions"), frames[1:], strict=True):
            frame.to_parquet(staging / f"{name}.parquet", index=False)
        write_coco(scenes, staging)
        summary = counts(scenes)
        (staging / "counts.json").write_text(json.dumps(summary, indent=1) + "\n")
        (staging / BUILD_INFO).write_text(json.dumps(request, indent=1) + "\n")
        frames[0].to_parquet(staging / "scenes.parquet", index=False)  # last write: marks it complete
        swap_in(staging, root)
    sheet = contact_sheet(scenes, root, contact_dir() / f"{root.name}.png")
    if progress:
        print(summary_lines(summary))
        print(f"scenes {split}: {n} → {root} (questions per type in counts.json); contact sheet {sheet}")
    return root
