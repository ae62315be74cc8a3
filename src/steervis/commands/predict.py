"""``steervis predict``: classify an image, a folder of images or a manifest with an adapter from ``steervis fit``.

Each image is described with the describer config recorded in the adapter's card, the description is put into
the same template, and the LM scores every class (or generates, with ``--set inference=generate``). Writes CSV
or JSON (by the ``--out`` suffix): path, label, confidence, the probability of every class, and the description
the model read. The resolved config is written beside it (``<out>.config.yaml``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from steervis.cli import HelpFormatter

EXAMPLE = """examples:
  steervis predict --adapter runs/pc photo.png --out preds.json
  steervis predict --adapter runs/pc ~/.cache/steervis/data/minidomains/sketch --out sketch.csv
  steervis predict --adapter runs/pc manifest.parquet --out preds.csv --set inference=generate
"""


def predict(adapter: str | Path, target: str | Path, overrides: list[str] | None = None) -> Any:
    """Predictions for ``target`` (image | folder | manifest) as a DataFrame, plus the config used.

    Args:
        adapter: Folder written by ``steervis fit``.
        target: Image file, folder of images, or manifest (parquet/CSV with a ``path`` column).
        overrides: ``key=value`` changes to the saved decide config (e.g. ``inference=generate``).

    Returns:
        ``(frame, config)``; frame columns ``path, label, confidence, description, p:<class>...``.
    """
    import pandas as pd

    from steervis.config import to_dict
    from steervis.data.inputs import frame_from_input
    from steervis.decide.decider import Decider
    from steervis.lm.adapters import read_card
    from steervis.methods.texts import describe_config, describe_texts

    card = read_card(adapter)
    config = predict_config(adapter, overrides)
    decider = Decider.load(adapter, **to_dict(config))
    frame = frame_from_input(target)
    texts = describe_texts(describe_config(card.get("describe")), config.components)(frame)
    probs = decider.predict_proba(texts)
    out = pd.DataFrame({"path": frame["path"], "label": [decider.classes[i] for i in probs.argmax(1)],
                        "confidence": probs.max(1), "description": texts})
    for j, name in enumerate(decider.classes):
        out[f"p:{name}"] = probs[:, j]
    return out, config


def predict_config(adapter: str | Path, overrides: list[str] | None = None) -> Any:
    """The adapter's saved decide config with ``key=value`` overrides applied."""
    from steervis.config import load_config
    from steervis.decide.config import DecideConfig
    from steervis.lm.adapters import read_card

    return load_config(DecideConfig, base=read_card(adapter)["decide"], overrides=overrides or [])


def write_predictions(frame: Any, path: str | Path) -> Path:
    """CSV or JSON by suffix, written atomically; JSON rows carry a ``probabilities`` mapping."""
    from steervis.errors import SteervisError

    path = Path(path)
    if path.suffix not in (".csv", ".json"):
        raise SteervisError(f"--out {path} must end in .csv or .json.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if path.suffix == ".csv":
        frame.to_csv(tmp, index=False)
    else:
        prob_cols = [c for c in frame.columns if c.startswith("p:")]
        rows = [{"path": r["path"], "label": r["label"], "confidence": float(r["confidence"]),
                 "probabilities": {c[2:]: float(r[c]) for c in prob_cols}, "description": r["description"]}
                for r in frame.to_dict("records")]
        tmp.write_text(json.dumps(rows, indent=2))
    tmp.replace(path)
    return path


def run(args: argparse.Namespace) -> int:
    from steervis.config import save_config

    if args.print_config:
        from steervis.config import dump_config

        print(dump_config(predict_config(args.adapter, args.overrides)), end="")
        return 0
    if Path(args.out).suffix not in (".csv", ".json"):
        from steervis.errors import SteervisError

        raise SteervisError(f"--out {args.out} must end in .csv or .json.")
    frame, config = predict(args.adapter, args.input, args.overrides)
    path = write_predictions(frame, args.out)
    save_config(config, path.with_name(path.name + ".config.yaml"))
    counts = frame["label"].value_counts().head(5)
    print(f"{len(frame)} predictions written to {path}; most frequent: "
          + ", ".join(f"{k} ({v})" for k, v in counts.items()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("predict", help="classify images with an adapter from `steervis fit`",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("input", help="an image, a folder of images, or a manifest (.parquet/.csv with 'path')")
    parser.add_argument("--adapter", required=True, help="folder written by `steervis fit`")
    parser.add_argument("--out", required=True, help="predictions file: .csv or .json")
    parser.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                        help="override a saved decide setting, e.g. --set inference=generate")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    parser.set_defaults(func=run)
