"""``steervis cache prune``: free the cached artifacts that no key of today's code reaches."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from steervis.commands._options import (
    HelpFormatter,
    add_config_options,
    add_field_flags,
    field_values,
    resolve_config,
)

EXAMPLE = """A cached description, feature, text embedding, retrieval index or REACT model is keyed by its
settings, its inputs, the weights it read and the behaviour version of the code that computed it. After an
upgrade that changes a behaviour version, the old entries are never read again: prune deletes them.

examples:
  steervis cache prune --dry-run     # what would go, and how many bytes
  steervis cache prune               # delete it
"""


@dataclass
class PruneConfig:
    """What ``steervis cache prune`` does.

    Attributes:
        dry_run: List what no current key reaches, and its size, without deleting it.
    """

    dry_run: bool = False


def run(args: argparse.Namespace) -> int:
    from steervis.disk import MB
    from steervis.paths import steervis_home
    from steervis.prune import prune

    cfg = resolve_config(PruneConfig, args, base=field_values(args, PruneConfig, ["dry_run"]))
    if cfg is None:
        return 0
    report = prune(steervis_home(), dry_run=cfg.dry_run)
    for entry, size in report.removed:
        print(f"  {'would delete' if cfg.dry_run else 'deleted'}  {entry}  ({size / MB:.1f} MB)")
    verb = "would free" if cfg.dry_run else "freed"
    print(f"steervis cache prune: {verb} {report.freed / MB:.1f} MB in {len(report.removed)} entries; "
          f"kept {report.kept} that today's keys reach.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("cache", help="manage the cache (STEERVIS_HOME)", formatter_class=HelpFormatter,
                            description="Manage the cache (STEERVIS_HOME).", epilog=EXAMPLE)
    verbs = parser.add_subparsers(dest="cache_verb", metavar="VERB", required=True)
    prune = verbs.add_parser("prune", help="delete cached artifacts no current key reaches; print the bytes",
                             formatter_class=HelpFormatter, epilog=EXAMPLE,
                             description="Delete cached artifacts that no key of today's code reaches.")
    add_config_options(prune, presets=False)
    add_field_flags(prune, PruneConfig, ["dry_run"])
    prune.set_defaults(func=run)
