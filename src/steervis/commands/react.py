"""``steervis react`` and ``steervis retrieve``: REACT on the knowledge pool.

``react build-pool`` customizes the embedded ConSE matcher on the whole pool (features computed once, settings
chosen on a held-out split of the pool) and saves it as the ``react-pool`` matcher, which describe, zeroshot
and by-description then use by name. ``retrieve`` shows what REACT retrieves for a task's class names.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from steervis.commands._options import HelpFormatter, positive_int

EXAMPLE = """examples:
  steervis data build pool && steervis react build-pool     # ~1 h cold on 2 cores, resumable
  steervis retrieve --classes dog,cat,guitar --k 50 --mode t2t --out runs/retrieved.parquet
  steervis retrieve --classes dog,cat --out retrieved.csv     # .parquet, .csv or .json: the suffix picks
  steervis react customize --classes dog,cat,guitar --base conse-lite2   # REACT proper for these classes
  steervis describe --data DIR --matcher react-pool         # descriptions from the customized matcher
"""


def run_build(args: argparse.Namespace) -> int:
    from steervis.card import read_card
    from steervis.react.build import build_react_pool

    out = build_react_pool(progress=not args.quiet, force=args.force, select=not args.no_select)
    card = read_card(out, kind="react-head")
    print(f"react-pool written to {out}: {card.data['pairs']} pairs, {card.data['concepts']} concepts, gate "
          f"{card.metrics['gate']:.3f}, settings {card.config}")
    return 0


def run_customize(args: argparse.Namespace) -> int:
    from steervis.card import read_card
    from steervis.react.build import react_for
    from steervis.react.matchers import REACT_KINDS

    out = react_for(_classes(args), k=args.k, mode=args.mode, base=args.base, root=args.pool,
                    progress=not args.quiet)
    card = read_card(out, kind=REACT_KINDS)
    print(f"react ({card.base}) for {len(card.react.classes)} classes written to {out}: {card.data['pairs']} "
          f"pairs, retrieval precision {100 * card.metrics['retrieval_precision']:.1f} %, final loss "
          f"{card.metrics['losses'][-1]:.3f}")
    return 0


def run_retrieve(args: argparse.Namespace) -> int:
    from steervis.react.retrieve import precision, retrieve

    out = check_table_out(args.out) if args.out else None  # before the retrieval: a wrong name costs nothing
    pairs = retrieve(_classes(args), k=args.k, mode=args.mode, progress=not args.quiet)
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


def _classes(args: argparse.Namespace) -> list[str]:
    # empty names are refused downstream, in one sentence
    return [c.strip() for c in (args.classes or "").split(",")]


def _add_query_options(parser: argparse.ArgumentParser) -> None:
    """What both verbs that retrieve for a task take: its class names, pairs per class, retrieval mode."""
    parser.add_argument("--classes", required=True, help="comma-separated class names")
    parser.add_argument("--k", type=positive_int, default=50, help="pairs retrieved per class")
    parser.add_argument("--mode", choices=["t2t", "t2i"], default="t2t",
                        help="text-to-text (pool texts) or text-to-image (pool images)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def register(sub: argparse._SubParsersAction) -> None:
    react = sub.add_parser("react", help="customize the matcher on the knowledge pool (REACT)",
                           description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    verbs = react.add_subparsers(dest="react_verb", metavar="ACTION")
    react.set_defaults(func=lambda args: react.print_help() or 0)
    build = verbs.add_parser("build-pool", help="train react-pool on the whole pool (cached, resumable)",
                             description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    build.add_argument("--force", action="store_true", help="retrain even if react-pool matches the pool")
    build.add_argument("--no-select", action="store_true", help="skip model selection; use the defaults")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.set_defaults(func=run_build)
    custom = verbs.add_parser("customize",
                              help="REACT for a task: retrieve pairs for the class names, customize",
                              description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    _add_query_options(custom)
    custom.add_argument("--base", default="conse", help="conse, conse-lite2, tiny-clip or a CLIP hub id")
    custom.add_argument("--pool", metavar="DIR",
                        help="the knowledge pool (default: the built one in the cache)")
    custom.set_defaults(func=run_customize)

    retrieve = sub.add_parser("retrieve", help="pool pairs REACT retrieves for class names",
                              description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    _add_query_options(retrieve)
    retrieve.add_argument("--out", metavar="FILE",
                          help="write the retrieved pairs here: FILE.parquet, FILE.csv "
                          "or FILE.json (records); the suffix picks the format")
    retrieve.set_defaults(func=run_retrieve)
