"""``steervis models``: what the zoo can load, what is ready offline, and the customized matchers with their
cards."""

from __future__ import annotations

import argparse

from steervis.commands._options import HelpFormatter, add_config, config_from

EXAMPLE = """examples:
  steervis models                    # table of names, kinds, sources, cached? + customized matchers
  steervis models --card react-pool  # a customized matcher's model card (base, pool, licences, versions, \
metrics)
"""


def show_card(which: str) -> int:
    from steervis.errors import SteervisError
    from steervis.react.build import customized_models

    rows = customized_models()
    found = [r for r in rows if which in (r.get("name"), r["path"]) or r["path"].endswith(f"/{which}")]
    if not found:
        known = ", ".join(r["path"].rsplit("/", 1)[-1] for r in rows) or "none built yet"
        raise SteervisError(f"No customized matcher {which!r}; known: {known}.")
    if "error" in found[0]:
        raise SteervisError(found[0]["error"])
    print(found[0]["card"].to_json())
    return 0


def customized_line(row: dict) -> str:
    """One customized matcher as a listing line; a damaged card is listed with the reason, naming its path."""
    ident = row["path"].rsplit("/", 1)[-1]
    if "error" in row:
        return f"  {ident:<18} DAMAGED: {row['error']}"
    loss = row["final_loss"]
    loss = f"{loss:.3f}" if isinstance(loss, (int, float)) else "-"
    what = f"{row['classes']} classes" if row["classes"] else "whole pool"
    # str(): a hand-edited card may hold null or a number where a name belongs; it is listed as it is
    return (f"  {ident:<18} {str(row['name']):<11} base {str(row['base']):<12} {str(row['pairs']):>6} pairs "
            f"({what}), pool {row['pool_hash']}, final loss {loss}")


def print_customized() -> None:
    from steervis.react.build import customized_models

    rows = customized_models()
    print("\ncustomized matchers (model cards: steervis models --card ID):")
    if not rows:
        print("  none yet: `steervis react build`, or `steervis evaluate --runs react`")
    for r in rows:
        print(customized_line(r))


def run(args: argparse.Namespace) -> int:
    from steervis import zoo
    from steervis.matchers import MATCHERS
    from steervis.vllavo.describe import CAPTIONERS, TAGGERS

    cfg = config_from(args)
    if cfg is None:
        return 0
    if cfg.card:
        return show_card(cfg.card)

    rows = zoo.list_models()
    print(f"{'name':<24} {'kind':<17} {'cached':<7} source")
    for row in rows:
        print(f"{row['name']:<24} {row['kind']:<17} {'yes' if row['cached'] else 'no':<7} {row['source']}")
    from steervis.llava.model import trained_models

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
    print_customized()
    print("\nAny Hugging Face hub id also loads (e.g. openai/clip-vit-large-patch14) when the hub is "
          "reachable or the weights are in the HF cache; hub reachable now: "
          f"{'yes' if zoo.hub_reachable() else 'no'}.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.react.config import ModelsConfig

    parser = sub.add_parser("models", help="list the models steervis can load and which are cached",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config(parser, ModelsConfig, ["card"])
    parser.set_defaults(func=run)
