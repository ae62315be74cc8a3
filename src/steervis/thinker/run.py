"""One chains run from its config: questions drawn, chains written and verified, the yield summarised.

The run folder gets the resolved ``config.yaml`` beside ``records.jsonl``, ``chains.parquet`` and
``summary.json`` (the yield per type against chance, :func:`~steervis.thinker.yield_.chain_yield`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from steervis.errors import SteervisError
from steervis.thinker.config import ThinkChainsConfig


def run_folder(cfg: ThinkChainsConfig) -> Path:
    """``cfg.folder``, or a cache folder named by the writer, the setting and a hash of the settings."""
    from steervis.config import config_hash
    from steervis.paths import cache_dir

    if cfg.folder:
        return Path(cfg.folder).expanduser()
    name = f"{cfg.writer}-{cfg.setting}-{config_hash(replace(cfg, folder=''))[:8]}"
    return cache_dir("thinker", "chains") / name


def read_captions(path: str | Path) -> dict[int, str]:
    """A JSON file of scene index → caption (``{"12": "a dog and two cats."}``)."""
    path = Path(path).expanduser()
    try:
        data = json.loads(path.read_text())
        return {int(k): str(v) for k, v in data.items()}
    except (OSError, ValueError, AttributeError) as err:
        raise SteervisError(f"--set captions={path}: not a JSON object of scene index → caption ({err}).") \
            from None


def run_chains(cfg: ThinkChainsConfig, progress: bool = False) -> dict[str, Any]:
    """Draw ``cfg.questions`` questions, write and verify ``cfg.samples`` chains each, and summarise the yield
    (also written to the run folder's ``summary.json``)."""
    from steervis.atomic import write_text
    from steervis.config import save_config
    from steervis.thinker.chains import CHAINS, chain_items, open_writer, write_chains
    from steervis.thinker.questions import thinker_questions
    from steervis.thinker.yield_ import chain_yield

    questions = thinker_questions(cfg.scenes or None, cfg.questions, cfg.seed, types=tuple(cfg.types))
    if not len(questions):
        raise SteervisError("The train split's main part has no question of these types.")
    captions = read_captions(cfg.captions) if cfg.captions else None
    out = run_folder(cfg)
    writer = open_writer(cfg.writer, cfg.max_new_tokens, cfg.temperature, cfg.prefill)
    records = write_chains(questions, out, writer, cfg.samples, cfg.seed, captions, cfg.setting,
                           progress=progress)
    save_config(cfg, out / "config.yaml")
    summary = {"writer": cfg.writer, "setting": cfg.setting, "out": str(out),
               "chains_kept": len(chain_items(records)), "items": str(out / CHAINS), **chain_yield(records)}
    write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    return summary
