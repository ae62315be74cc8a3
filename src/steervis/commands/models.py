"""``steervis models``: what the zoo can load and what is ready offline."""

from __future__ import annotations

import argparse

from steervis.commands._options import HelpFormatter

EXAMPLE = """example:
  steervis models            # table of names, kinds, sources, cached?
"""


def run(args: argparse.Namespace) -> int:
    from steervis import zoo

    rows = zoo.list_models()
    print(f"{'name':<24} {'kind':<17} {'cached':<7} source")
    for row in rows:
        print(f"{row['name']:<24} {row['kind']:<17} {'yes' if row['cached'] else 'no':<7} {row['source']}")
    print("\nAny Hugging Face hub id also loads (e.g. openai/clip-vit-large-patch14) when the hub is reachable "
          f"or the weights are in the HF cache; hub reachable now: {'yes' if zoo.hub_reachable() else 'no'}.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("models", help="list the models steervis can load and which are cached",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.set_defaults(func=run)
