"""``steervis react`` and ``steervis retrieve``: REACT on the knowledge pool.

``react build`` customizes the embedded ConSE matcher on the whole pool (features computed once, settings
chosen on a held-out split of the pool) and saves it as the ``react-pool`` matcher, which describe, zeroshot
and by-description then use by name; its recipe is preset ``react-pool``. ``react customize`` is REACT for a
task's class names (preset ``react-task``); ``retrieve`` shows what REACT retrieves for them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from steervis.commands._options import POSITIVE_INT, HelpFormatter, add_config, config_from

EXAMPLE = """examples:
  steervis data build pool && steervis react build          # ~1 h cold on 2 cores, resumable
  steervis react build --preset react-pool --print-config   # the reported react-pool's recipe
  steervis react build --no-select --set settings.epochs=2  # no model selection, a quick head
  steervis retrieve --classes dog,cat,guitar --k 50 --mode t2t --out runs/retrieved.parquet
  steervis retrieve --classes dog,cat --out retrieved.csv     # .parquet, .csv or .json: the suffix picks
  steervis react customize --classes dog,cat,guitar --base conse-lite2   # REACT proper for these classes
  steervis describe --data DIR --matcher react-pool         # descriptions from the customized matcher
"""


def run_build(args: argparse.Namespace) -> int:
    from steervis.card import read_card
    from steervis.react.build import build_react_pool

    cfg = config_from(args)
    if cfg is None:
        return 0
    out = build_react_pool(cfg, progress=not args.quiet)
    card = read_card(out, kind="react-head")
    print(f"react-pool written to {out}: {card.data['pairs']} pairs, {card.data['concepts']} concepts, gate "
          f"{card.metrics['gate']:.3f}, settings {card.config}")
    return 0


def run_customize(args: argparse.Namespace) -> int:
    from steervis.card import read_card
    from steervis.react.build import react_for
    from steervis.react.matchers import REACT_KINDS

    cfg = config_from(args)
    if cfg is None:
        return 0
    out = react_for(cfg.classes, k=cfg.k, mode=cfg.mode, settings=cfg.settings, base=cfg.base, root=cfg.pool,
                    progress=not args.quiet)
    card = read_card(out, kind=REACT_KINDS)
    print(f"react ({card.base}) for {len(card.react.classes)} classes written to {out}: {card.data['pairs']} "
          f"pairs, retrieval precision {100 * card.metrics['retrieval_precision']:.1f} %, final loss "
          f"{card.metrics['losses'][-1]:.3f}")
    return 0


def run_retrieve(args: argparse.Namespace) -> int:
    from steervis.react.retrieve import precision, retrieve

    cfg = config_from(args)
    if cfg is None:
        return 0
    out = check_table_out(cfg.out) if cfg.out else None  # before the retrieval: a wrong name costs nothing
    pairs = retrieve(cfg.classes, k=cfg.k, mode=cfg.mode, progress=not args.quiet)
    if out is not None:
        write_table(pairs.drop(columns=["phash", "phash_ink"], errors="ignore"), out)
    for cls, value in precision(pairs).items():
        top = pairs[pairs["class"] == cls]["text"].head(2).tolist()
        print(f"{cls:<20} precision {100 * value:5.1f} %   e.g. {top[0][:60]!r}")
    print(f"{len(pairs)} pairs" + (f" written to {out}" if out else ""))
    return 0


TABLE_SUFFIXES = (".parquet", ".csv", ".json")  # the --out suffix picks the format


def check_table_out(path: str) -> Path:
    """``--out`` of a verb that writes a table: a file whose suffix names its format, not a folder."""
    from steervis.errors import SteervisError

    out = Path(path).expanduser()
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise SteervisError(f"--out {out} must end in .parquet, .csv or .json: the suffix picks the format.")
    if out.is_dir():
        raise SteervisError(f"--out {out} is a folder: give a file name, e.g. "
                            f"{out / ('pairs' + out.suffix)}.")
    if any(p.exists() and not p.is_dir() for p in out.parents):
        raise SteervisError(f"--out {out}: a parent of it is a file, not a folder.")
    from steervis.disk import check_writable

    check_writable(out, 16 << 20, "the table")  # retrieved pairs are ~200 bytes a row: room for 80k rows
    return out


def write_table(frame: Any, out: Path) -> Path:
    """``frame`` as Parquet, CSV or JSON records by ``out``'s suffix, written atomically."""
    from steervis.atomic import atomic_path

    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    with atomic_path(out) as tmp:
        if suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        elif suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_json(tmp, orient="records", indent=2, force_ascii=False)
    return out


QUERY_FLAGS = ["classes", "k", "mode"]  # what both verbs that retrieve for a task take as flags


def _quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.react.config import ReactPoolConfig, ReactTaskConfig, RetrieveConfig

    react = sub.add_parser("react", help="customize the matcher on the knowledge pool (REACT)",
                           description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    verbs = react.add_subparsers(dest="react_verb", metavar="ACTION")
    react.set_defaults(func=lambda args: react.print_help() or 0)
    build = verbs.add_parser("build", help="train react-pool on the whole pool (cached, resumable)",
                             description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config(build, ReactPoolConfig, ["pool", "force", "select"], presets=True)
    _quiet(build)
    build.set_defaults(func=run_build, preset="react-pool")  # the reported recipe unless another is named
    custom = verbs.add_parser("customize",
                              help="REACT for a task: retrieve pairs for the class names, customize",
                              description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config(custom, ReactTaskConfig, [*QUERY_FLAGS, "base", "pool"], presets=True,
               bounds={"k": POSITIVE_INT})
    _quiet(custom)
    custom.set_defaults(func=run_customize, preset="react-task")

    retrieve = sub.add_parser("retrieve", help="pool pairs REACT retrieves for class names",
                              description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config(retrieve, RetrieveConfig, [*QUERY_FLAGS, "out"], bounds={"k": POSITIVE_INT})
    _quiet(retrieve)
    retrieve.set_defaults(func=run_retrieve)
