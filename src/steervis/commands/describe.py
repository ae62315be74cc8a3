"""``steervis describe``: images → tags, attributes and captions, cached by content and resumable.

Describes every image under ``--data`` (``<root>/<domain>/<class>/<image>``) once: descriptions live in the
content-addressed store (``$STEERVIS_HOME/descriptions``), so a rerun only describes what is new, and a killed
run resumes. Writes ``descriptions.parquet``, ``descriptions.jsonl``, ``failures.csv``, ``summary.json`` and
the resolved ``config.yaml`` into ``--out``, all at once: a new or empty folder, or (``--overwrite``) an
earlier export; never a folder holding other files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from steervis.commands._options import HelpFormatter, add_config, add_follow_links, config_from

# DescribeConfig fields that are also flags (every other field: --set key=value).
FLAGS = ["matcher", "captioner", "tag_vocab", "attribute_vocab", "batch_size", "engine", "store"]
EXAMPLE = """examples:
  steervis describe --data ~/.cache/steervis/data/minidomains
  steervis describe --data DIR --preset describe-tiny --out runs/describe-tiny
  steervis describe --data DIR --set tag_top_k=10 --tag-vocab my_tags.txt --batch-size 64
  steervis describe --data DIR --engine ray --set ray_actors=4
  steervis describe --data DIR --set class_tags=3     # the matcher's top 3 of the folder's classes lead the \
tags
  steervis describe --data DIR --print-config
"""


def run(args: argparse.Namespace) -> int:
    cfg = config_from(args)
    if cfg is None:
        return 0
    if not args.data:
        from steervis.errors import SteervisError

        raise SteervisError("--data DIR is required (a <root>/<domain>/<class>/<image> folder).")
    from steervis.disk import check_writable, output_lock
    from steervis.outputs import check_out_dir

    if args.out:  # the default export folder lies in the cache, which steervis owns
        args.out = str(check_out_dir(args.out, overwrite=args.overwrite, inputs=[args.data],
                                     kind="descriptions export"))
        check_writable(args.out, EXPORT_SPACE, "the descriptions export")
        with output_lock(args.out):
            check_out_dir(args.out, overwrite=args.overwrite, inputs=[args.data], kind="descriptions export")
            return describe_into(args, cfg)
    # The default export (in the cache) takes no lock: two describes of one folder share the store's claims
    # and each swaps in the same complete export.
    return describe_into(args, cfg)


# Room an export needs: descriptions are ~1 KB of text an image in two formats; 16 MB covers ~8k images.
EXPORT_SPACE = 16 << 20


def describe_into(args: argparse.Namespace, cfg: Any) -> int:
    from steervis.atomic import atomic_dir
    from steervis.config import save_config
    from steervis.methods.task import open_task
    from steervis.vllavo.describe.export import export_descriptions
    from steervis.vllavo.describe.run import describe

    # the folder check decodes each image once; describe reuses it
    task = open_task(args.data, domains=args.domains, progress=not args.quiet, follow_links=args.follow_links)
    data, images = task.folder, task.images
    cfg = task.describer(cfg)  # class tags and react: this folder's classes
    out = Path(args.out) if args.out else cfg.store_dir() / "exports" / f"{data.root.name}-{cfg.cache_key()}"
    descriptions = describe(data.frame, cfg, progress=not args.quiet, images=images)
    summary = descriptions.summary
    failures = sorted(data.skipped) + summary.failures
    report = {**summary.to_dict(), "failed": len(failures), "skipped_when_indexing": len(data.skipped),
              "config_hash": cfg.cache_key(), "out": str(out)}
    report.pop("failures")
    # all files at once
    with atomic_dir(out, kind="descriptions export", config_hash=cfg.cache_key()) as staging:
        save_config(cfg, staging / "config.yaml")
        paths = export_descriptions(data.frame, descriptions, staging, args.components or None)
        with open(staging / "failures.csv", "w", encoding="utf-8") as handle:
            handle.write("path,reason\n")
            handle.writelines(f"{json.dumps(p)},{json.dumps(r)}\n" for p, r in failures)
        (staging / "summary.json").write_text(json.dumps(report, indent=2))
    first = next((d for d in descriptions if d is not None), None)
    if first is not None and not args.quiet:
        print(f"example ({Path(data.frame['path'].iloc[0]).name}):\n"
              f"{first.render(args.components or None)}\n")
    print(f"{len(data.frame) + len(data.skipped)} files: {summary.described} described, {summary.cached} "
          f"cached, {len(failures)} failed; {summary.images_per_s:.1f} images/s described; "
          f"{summary.seconds:.1f} s")
    print(f"wrote {', '.join(p.name for p in paths)}, failures.csv, summary.json, config.yaml in {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.vllavo.describe.config import DescribeConfig

    parser = sub.add_parser("describe", help="images → tags, attributes, captions (cached, resumable)",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("--data", metavar="DIR", help="dataset folder <root>/<domain>/<class>/<image>")
    parser.add_argument("--domains", nargs="*", metavar="D", help="only these domains (default: all)")
    add_follow_links(parser)
    parser.add_argument("--out", metavar="DIR",
                        help="export folder, new or empty (default: "
                        "$STEERVIS_HOME/descriptions/exports/<data>-<hash>)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an earlier `steervis describe` export "
                        "at --out (only a steervis export)")
    add_config(parser, DescribeConfig, FLAGS, presets=True)
    parser.add_argument("--components", nargs="*", choices=["tags", "attributes", "captions"],
                        help="components in the exported text (default: all that exist)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)
