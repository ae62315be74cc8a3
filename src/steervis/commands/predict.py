"""``steervis predict``: classify an image, a folder of images or a manifest with an adapter from
``steervis fit``.

Each image is described with the describer config recorded in the adapter's card, the description is put into
the same template, and the LM scores every class (or generates, with ``--set decide.inference=generate``).
Writes CSV or JSON (by the ``--out`` suffix): path, label, confidence, the probability of every class, and the
description the model read. The resolved config is written beside it (``<out>.config.yaml``), last, naming the
sha256 of the predictions it goes with: predictions without it were interrupted. A second predict into the
same ``--out`` is refused while the first runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from steervis.commands._options import HelpFormatter, add_config, config_from

EXAMPLE = """examples:
  steervis predict --adapter runs/pc photo.png --out preds.json
  steervis predict --adapter runs/pc ~/.cache/steervis/data/minidomains/sketch --out sketch.csv
  steervis predict --adapter runs/pc manifest.parquet --out preds.csv --set decide.inference=generate
  steervis predict --adapter runs/pc photo.png --out preds.json --print-config   # the adapter's settings
"""


# Room for the predictions file: a few hundred bytes a row; 16 MB covers tens of thousands of images.
PREDICT_SPACE = 16 << 20


def run(args: argparse.Namespace) -> int:
    from steervis.config import dump_config, to_dict
    from steervis.disk import check_writable, output_lock
    from steervis.errors import SteervisError
    from steervis.methods.finetune import check_out_file, predict_config

    cfg = config_from(args, print_config=False)
    if args.print_config:  # with the adapter's saved decide settings filled in, as predict would use them
        if cfg.adapter:
            cfg.decide = to_dict(predict_config(cfg.adapter, cfg.decide))
        print(dump_config(cfg), end="")
        return 0
    if not (cfg.input and cfg.adapter and cfg.out):
        raise SteervisError("predict needs INPUT (an image, folder or manifest), --adapter DIR (from "
                            "`steervis fit`) and --out FILE (.csv or .json).")
    check_out_file(cfg.out)
    check_writable(cfg.out, PREDICT_SPACE, "the predictions")
    with output_lock(cfg.out):
        return predict_and_write(cfg)


def predict_and_write(cfg: Any) -> int:
    import hashlib
    from pathlib import Path

    from steervis.atomic import write_text
    from steervis.config import dump_config
    from steervis.methods.finetune import predict, write_predictions

    frame, config = predict(cfg.adapter, cfg.input, cfg.decide)
    path = Path(cfg.out)
    beside = path.with_name(path.name + ".config.yaml")
    beside.unlink(missing_ok=True)  # a stale config never sits beside new predictions, even after a kill
    write_predictions(frame, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    write_text(beside, f"# predictions: {path.name} sha256 {digest}\n{dump_config(config)}")
    counts = frame["label"].value_counts().head(5)
    print(f"{len(frame)} predictions written to {path}; most frequent: "
          + ", ".join(f"{k} ({v})" for k, v in counts.items()))
    if frame.attrs.get("skipped"):
        print(f"skipped {len(frame.attrs['skipped'])} input(s) that are not usable images (reasons above)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.vllavo.decide.config import PredictConfig

    parser = sub.add_parser("predict", help="classify images with an adapter from `steervis fit`",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config(parser, PredictConfig, ["adapter", "out"], positional="input")
    parser.set_defaults(func=run)
