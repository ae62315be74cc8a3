"""``steervis think``: OpenVLThinker's reasoning chains, written by a text LM from captions of training scenes
and kept only where the answer verifies against the scene's truth.

``think chains`` draws multi-step questions (counting among kinds, comparing counts, positions, sizes) from
the train split's main part, lets the writer sample chains in the ``<think>…</think><answer>…</answer>``
format, keeps the verified ones as SFT items (``chains.parquet``) and prints the yield per question type
against its chance rate with 95 % intervals. A rerun of the same settings skips the questions already done.
"""

from __future__ import annotations

import argparse

from steervis.commands._options import (
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    Bounds,
    HelpFormatter,
    add_config,
    print_json,
)

EXAMPLE = """examples:
  steervis think chains --preset think-chains            # SmolLM2-135M: 200 questions, 4 chains each
  steervis think chains --preset think-chains --set writer=gemma3-270m   # Gemma 3 270M on the same questions
  steervis think chains --set writer=template --set questions=50   # the template teacher (the upper bound)
  steervis think chains --set captions=captions.json --set setting=faithful   # the VLM's own captions
  steervis think chains --print-config
"""


def chains(args: argparse.Namespace) -> int:
    from steervis.commands._options import check_json_out, config_from
    from steervis.thinker.run import run_chains

    cfg = config_from(args)
    if cfg is None:
        return 0
    out = check_json_out(args.out, "chains")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    print_json(run_chains(cfg, progress=not args.quiet), out)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.thinker.config import ThinkChainsConfig

    parser = sub.add_parser("think", help="verified reasoning chains from captions (OpenVLThinker)",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    verbs = parser.add_subparsers(dest="think_verb", metavar="ACTION", required=True)
    ch = verbs.add_parser("chains", help="write, verify and keep chains; print the yield per question type",
                          description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config(ch, ThinkChainsConfig, ["writer"], presets=True,
               bounds={"questions": NON_NEGATIVE_INT, "samples": POSITIVE_INT, "max_new_tokens": POSITIVE_INT,
                       "temperature": Bounds(0, low_open=True, integer=False)})
    ch.add_argument("--out", metavar="FILE.json", help="also write the summary here")
    ch.add_argument("--threads", type=POSITIVE_INT, help="torch CPU threads (default: torch's choice)")
    ch.add_argument("--quiet", action="store_true", help="no progress bar")
    ch.set_defaults(func=chains)
