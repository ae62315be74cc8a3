"""A run folder on disk: where a config's run lives, its parts (one per split and method, keyed by everything
they depend on, so a killed run resumes and a changed setting recomputes only what it changes), and the
publication of its results, all at once, beside the parts they came from.

The parts are a :class:`~steervis.store.Store` in ``<run>/parts``: each (split, method) result is one part
file, its rows the predictions under the key ``<split>__<method>-<part key>``, with the result's info (JSON)
beside them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from steervis.atomic import atomic_dir, write_text
from steervis.config import config_hash, to_dict
from steervis.device import precision_identity
from steervis.eval.config import EvaluateConfig
from steervis.eval.protocols import PROTOCOLS, Split
from steervis.identity import artifact_key
from steervis.store import Store

PART, INFO = "part", "info"  # the run parts' key column, and the column holding each part's info


def run_dir_for(cfg: EvaluateConfig) -> Path:
    """Same config → same folder, so rerunning a killed command resumes it. A protocol's own section
    (``section`` in its registration) counts only for that protocol, so a new one moves no other's folder."""
    values = to_dict(cfg)
    for name in PROTOCOLS.names():
        section = PROTOCOLS.meta(name).get("section")
        if section and name != cfg.protocol:
            values.pop(section, None)
    return Path(cfg.out) / (cfg.name or f"{cfg.protocol}-{config_hash(values, 10)}")


def frame_digest(frame: pd.DataFrame, columns: list[str]) -> str:
    """The identity of a split's rows: a hash over their (sorted) content, not their count or run name."""
    rows = sorted("\t".join(map(str, r)) for r in frame[columns].itertuples(index=False))
    return config_hash(rows)


def part_key(cfg: EvaluateConfig, split: Split, run: Any, classes: list[str]) -> str:
    """Everything one (split, method) result (``run``: a harness ``MethodRun``) depends on: a changed setting,
    image, model or behaviour of the code recomputes just that part."""
    from steervis.llava.model import vlm_identity
    from steervis.matchers import matcher_identity

    options = run.options
    opts = to_dict(options) if options is not None and hasattr(options, "__dataclass_fields__") else options
    if isinstance(opts, dict) and "device" in opts:  # where it runs changes no result; its precision may
        opts = {**{k: v for k, v in opts.items() if k != "device"},
                "dtype": precision_identity(opts["device"], opts.get("dtype", "auto"))}
    matcher, model = getattr(options, "matcher", None), getattr(options, "model", None)
    weights = [vlm_identity(model) if isinstance(model, str) else str(model),  # trained here: by its files
               matcher_identity(matcher) if isinstance(matcher, str) else str(matcher)]
    return artifact_key("run-part", config={
        "method": run.method, "options": opts, "classes": classes, "seed": cfg.seed,
        "components": list(run.components or ()), "describe": run.describe.content_fields(),
        "rounds": cfg.uda.rounds if PROTOCOLS.meta(cfg.protocol).get("adapt") else None,
    }, inputs=[frame_digest(split.train, ["sha256", "class"]),
               frame_digest(split.test, ["path", "sha256", "domain", "class"])], weights=weights)


def run_parts(run_dir: Path) -> Store:
    """The run's parts (a damaged one is set aside on opening, and its result computed again)."""
    key = "<split>__<method>-<hash of what the result depends on>"
    return Store(run_dir / "parts", key=PART, what="run part", identity={"run": run_dir.name, PART: key})


def part_name(split: Split, name: str, key: str) -> str:
    return f"{split.name}__{name}".replace("/", "-").replace("→", "-to-") + f"-{key}"


def read_part(parts: Store, part: str) -> tuple[pd.DataFrame, dict] | None:
    """A finished part's rows and info, or ``None``."""
    if part not in parts:
        return None
    rows = parts.rows([part])
    return rows.drop(columns=[PART, INFO]), json.loads(rows[INFO].iloc[0])


def write_part(parts: Store, part: str, rows: pd.DataFrame, info: dict) -> None:
    """One part file, whole or not at all: the rows and their info together."""
    parts.put(rows.assign(**{PART: part, INFO: json.dumps(info)}))


# Room a run folder needs beyond its parts: predictions, metrics and a report with inline charts are a few MB
# for thousands of images; 32 MB refuses a full disk before the methods run, not after.
RUN_SPACE = 32 << 20


def check_run_dir(run_dir: Path, cfg: EvaluateConfig) -> None:
    """A run folder is resumed and republished by steervis; a folder of the user's own by that name is
    refused."""
    from steervis.outputs import check_apart, check_owned, restore_interrupted_swap

    check_apart(run_dir, [p for p in (cfg.data, cfg.detection.coco) if p], "run folder")
    restore_interrupted_swap(run_dir)
    if run_dir.is_dir() and any(run_dir.iterdir()):
        check_owned(run_dir, run_dir, "run folder", "run")


@contextlib.contextmanager
def staged_run(run_dir: Path, cfg_hash: str) -> Iterator[Path]:
    """A staging folder for a run's results; on success the run's parts join it and it replaces ``run_dir``.

    Readers see the old complete folder or the new one, never config from one run beside predictions of
    another. Parts are hard-linked, not copied: they are immutable once written, so both folders share them.
    """
    with atomic_dir(run_dir, kind="run", config_hash=cfg_hash) as staging:
        yield staging
        link_tree(run_dir / "parts", staging / "parts")


def link_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for path in src.iterdir() if src.is_dir() else []:
        if path.is_file() and not path.name.startswith("."):  # a writer's hidden temporary is not a part
            try:
                os.link(path, dst / path.name)
            except OSError:  # a file system without hard links
                shutil.copy2(path, dst / path.name)


def write_methods_yaml(path: Path, options: dict[str, Any], infos: dict[tuple[str, str], dict]) -> None:
    """Each method's resolved options, and the config it resolved them to (e.g. a DecideConfig), if any."""
    import yaml

    out: dict[str, Any] = {}
    for name, run in options.items():
        out[name] = {"method": run.method, "options": to_dict(run.options)} if run.method != name else \
            {"options": to_dict(run.options)}
        if run.describe is not None and name != run.method:
            out[name]["describe"] = to_dict(run.describe)
            out[name]["components"] = list(run.components or ())
    for (_, name), info in infos.items():
        if "resolved" in info:
            out[name]["resolved"] = info["resolved"]
    write_text(path, yaml.safe_dump(out, sort_keys=False, allow_unicode=True))
