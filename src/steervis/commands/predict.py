"""``steervis predict``: classify an image, a folder of images or a manifest with an adapter from
``steervis fit``.

Each image is described with the describer config recorded in the adapter's card, the description is put into
the same template, and the LM scores every class (or generates, with ``--set inference=generate``). Writes CSV
or JSON (by the ``--out`` suffix): path, label, confidence, the probability of every class, and the
description the model read. The resolved config is written beside it (``<out>.config.yaml``), last, naming the
sha256 of the predictions it goes with: predictions without it were interrupted. A second predict into the
same ``--out`` is refused while the first runs.
"""

from __future__ import annotations

import argparse

from steervis.commands._options import HelpFormatter

EXAMPLE = """examples:
  steervis predict --adapter runs/pc photo.png --out preds.json
  steervis predict --adapter runs/pc ~/.cache/steervis/data/minidomains/sketch --out sketch.csv
  steervis predict --adapter runs/pc manifest.parquet --out preds.csv --set inference=generate
"""


# Room for the predictions file: a few hundred bytes a row; 16 MB covers tens of thousands of images.
PREDICT_SPACE = 16 << 20


def run(args: argparse.Namespace) -> int:
    from steervis.disk import check_writable, output_lock
    from steervis.methods.finetune import check_out_file, predict_config

    if args.print_config:
        from steervis.config import dump_config

        print(dump_config(predict_config(args.adapter, args.overrides)), end="")
        return 0
    check_out_file(args.out)
    check_writable(args.out, PREDICT_SPACE, "the predictions")
    with output_lock(args.out):
        return predict_and_write(args)


def predict_and_write(args: argparse.Namespace) -> int:
    import hashlib
    from pathlib import Path

    from steervis.atomic import write_text
    from steervis.config import dump_config
    from steervis.methods.finetune import predict, write_predictions

    frame, config = predict(args.adapter, args.input, args.overrides)
    path = Path(args.out)
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
    parser = sub.add_parser("predict", help="classify images with an adapter from `steervis fit`",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("input",
                        help="an image, a folder of images, or a manifest (.parquet/.csv with 'path')")
    parser.add_argument("--adapter", required=True, help="folder written by `steervis fit`")
    parser.add_argument("--out", required=True, help="predictions file: .csv or .json")
    parser.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                        help="override a saved decide setting, e.g. --set inference=generate")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    parser.set_defaults(func=run)
