"""``steervis models``: what the zoo can load and what is ready offline."""

from __future__ import annotations

import argparse

from steervis.commands._options import HelpFormatter

EXAMPLE = """example:
  steervis models            # table of names, kinds, sources, cached?
"""


def run(args: argparse.Namespace) -> int:
    from steervis import zoo
    from steervis.describe import CAPTIONERS, MATCHERS, TAGGERS

    rows = zoo.list_models()
    print(f"{'name':<24} {'kind':<17} {'cached':<7} source")
    for row in rows:
        print(f"{row['name']:<24} {row['kind']:<17} {'yes' if row['cached'] else 'no':<7} {row['source']}")
    from steervis.vlm.model import trained_models

    print("\nVLMs trained here (`steervis vlm train`; use as --model stageN):")
    for row in trained_models() or [{"name": "none yet", "path": "run `steervis vlm train --stage 1`"}]:
        if "lm" not in row:
            print(f"  {row['name']:<10} {row.get('error', row['path'])}")
            continue
        loss = f"{row['loss_last']:.2f}" if isinstance(row["loss_last"], float) else "?"
        print(f"  {row['name']:<10} {row['lm']} + {row['vision_tower']} ({row['projector']}), stages "
              f"{'+'.join(row['stages'])}, {row['conversations']} conversations, {row['steps']} steps, "
              f"last loss {loss}  {row['path']}")
    for registry in (MATCHERS, TAGGERS, CAPTIONERS):  # what the describer can be built from, by name
        print(f"\n{registry.kind}s:\n" + "\n".join("  " + line for line in registry.listing().splitlines()))
    print("\nAny Hugging Face hub id also loads (e.g. openai/clip-vit-large-patch14) when the hub is reachable "
          f"or the weights are in the HF cache; hub reachable now: {'yes' if zoo.hub_reachable() else 'no'}.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("models", help="list the models steervis can load and which are cached",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.set_defaults(func=run)
