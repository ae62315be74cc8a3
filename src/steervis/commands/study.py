"""``steervis study NAME``: an analysis over run folders and models, printed as JSON.

Studies are the entries of ``steervis.studies.STUDIES``: paired differences between two methods of a run,
whether the decider follows the class tags, the descriptions' textual domain shift, REACT's zero-shot
accuracy, VLMClassifier's (Zhang et al.) label-space sweep and probes on a VLM, a page of a VLM's captions.
Their options are a config derived from the study's signature, set by ``--set key=value`` and ``--config
FILE.yaml`` and checked before it runs; ``--print-config`` shows them and runs nothing.
"""

from __future__ import annotations

import argparse

from steervis.commands._targets import add_target_verb, run_target

EXAMPLE = """examples:
  steervis study --list
  steervis study paired --set run=runs/full --set a=describe-decide --set b=zeroshot,linear-probe
  steervis study paired --set run=runs/quick --set against=runs/quick-bf16 --out bf16.json   # two runs
  steervis study class-tags --set run=runs/full --set method=describe-decide --out class-tags.json
  steervis study vlm-sweep --set model=stage2 --set 'sizes=[2,5,10]' --set draws=3
  steervis study vlm-sweep --print-config          # every option of the study, with its default
"""


def run(args: argparse.Namespace) -> int:
    from steervis.studies import STUDIES

    return run_target("study", STUDIES, args)


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_target_verb(sub, "study", help="analyse run folders and models (e.g. paired differences)",
                             description=__doc__, epilog=EXAMPLE,
                             list_help="list the studies: analyses over run folders and models")
    parser.set_defaults(func=run)
