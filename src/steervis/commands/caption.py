"""``steervis caption PATH...``: captions of images (or every image in a folder) by steervis' LLaVA.

One greedy caption per image, plus ``--samples`` sampled ones (VLLaVO's recipe with BLIP). The model is the
latest one trained here (``steervis vlm train``) unless ``--model`` names a saved folder or a Llava.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from steervis.commands._options import HelpFormatter

EXAMPLE = """examples:
  steervis caption photo.png
  steervis caption ~/.cache/steervis/data/minidomains/photo/dog --samples 2
  steervis caption x.png --model tiny-llava
"""
SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"}


def run(args: argparse.Namespace) -> int:
    from steervis.errors import SteervisError
    from steervis.vlm.model import open_vlm

    paths: list[Path] = []
    for given in map(Path, args.paths):
        if given.is_dir():
            paths += sorted(p for p in given.rglob("*") if p.suffix.lower() in SUFFIXES)[: args.limit]
        elif given.exists():
            paths.append(given)
        else:
            raise SteervisError(f"{given} does not exist: give image files or folders.")
    if not paths:
        raise SteervisError("No images to caption: the folders hold no .png/.jpg files.")
    vlm = open_vlm(args.model)
    for start in range(0, len(paths), args.batch_size):
        chunk = paths[start : start + args.batch_size]
        for path, captions in zip(chunk, vlm.caption(chunk, beams=1, samples=args.samples), strict=True):
            print(f"{path}\t" + " | ".join(captions))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("caption", help="caption images with steervis' LLaVA", description=__doc__,
                            epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    parser.add_argument("--model", help="saved folder, stage1, stage2, tiny-llava or a hub Llava (default: latest)")
    parser.add_argument("--samples", type=int, default=0, help="sampled captions after the greedy one")
    parser.add_argument("--limit", type=int, default=50, help="at most this many images per folder")
    parser.add_argument("--batch-size", type=int, default=8, help="images per generation batch")
    parser.set_defaults(func=run)
