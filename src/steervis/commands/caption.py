"""``steervis caption PATH...``: captions of images (or every image in a folder) by steervis' LLaVA.

One greedy caption per image, plus ``--samples`` sampled ones (VLLaVO's recipe with BLIP). The model is the
latest one trained here (``steervis vlm train``) unless ``--model`` names a saved folder or a Llava. A file
that is no usable image (empty, truncated, not an image) is skipped with a one-line warning, as describe and
predict skip it; only when no input is usable does the command fail.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from steervis.commands._options import NON_NEGATIVE_INT, POSITIVE_INT, HelpFormatter, add_config, config_from

EXAMPLE = """examples:
  steervis caption photo.png
  steervis caption ~/.cache/steervis/data/minidomains/photo/dog --samples 2
  steervis caption x.png --model tiny-llava
  steervis caption photo.png --set samples=3 --print-config
"""
log = logging.getLogger(__name__)


def _image_paths(given: list[str], limit: int) -> list[Path]:
    """Files as given, and up to ``limit`` images (by suffix) from each folder, searched recursively."""
    from steervis.data.inputs import IMAGE_SUFFIXES
    from steervis.errors import SteervisError

    paths: list[Path] = []
    for path in map(Path, given):
        if path.is_dir():
            paths += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
        elif path.exists():
            paths.append(path)
        else:
            raise SteervisError(f"{path} does not exist: give image files or folders.")
    if not paths:
        raise SteervisError(f"No images to caption: the folders hold no {', '.join(sorted(IMAGE_SUFFIXES))} "
                            "files.")
    return paths


def _opened(chunk: list[Path], skipped: list[tuple[Path, str]]) -> list[tuple[Path, Any]]:
    """The chunk's images, decoded; each file that is no usable image is skipped with a warning (as describe
    and predict skip them), so one bad file costs itself, not the run."""
    from steervis.data.images import BadImage, open_image

    opened = []
    for path in chunk:
        try:
            opened.append((path, open_image(path)))
        except BadImage as err:
            log.warning("skipping %s: %s", path, err.reason)
            skipped.append((path, err.reason))
    return opened


def run(args: argparse.Namespace) -> int:
    from steervis.errors import SteervisError
    from steervis.llava.vlms import open_vlm

    cfg = config_from(args)
    if cfg is None:
        return 0
    if not cfg.paths:
        raise SteervisError("caption needs at least one PATH: an image file or a folder of images.")
    paths = _image_paths(cfg.paths, cfg.limit)
    vlm = open_vlm(cfg.model)
    skipped: list[tuple[Path, str]] = []
    for start in range(0, len(paths), cfg.batch_size):
        opened = _opened(paths[start : start + cfg.batch_size], skipped)
        if not opened:
            continue
        captions = vlm.caption([img for _, img in opened], beams=1, samples=cfg.samples)
        for (path, _), texts in zip(opened, captions, strict=True):
            print(f"{path}\t" + " | ".join(texts))
    if len(skipped) == len(paths):
        path, reason = skipped[0]
        lead = f"None of the {len(paths)} inputs is a usable image; e.g. " if len(paths) > 1 else ""
        raise SteervisError(f"{lead}{path} cannot be used: {reason}.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.llava.config import CaptionConfig

    parser = sub.add_parser("caption", help="caption images with steervis' LLaVA", description=__doc__,
                            epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config(parser, CaptionConfig, ["model", "samples", "limit", "batch_size"], positional="paths",
               bounds={"samples": NON_NEGATIVE_INT, "limit": POSITIVE_INT, "batch_size": POSITIVE_INT},
               help={"paths": "image files or folders"}, metavar="PATH")
    parser.set_defaults(func=run)
