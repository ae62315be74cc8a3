"""What a pool build reads: the unpacked source packages, their candidate pairs, and what it must exclude.

:func:`fetch_pool_trees` fetches every pool package; :func:`collect_candidates` reads every candidate pair
from them in a fixed order and :func:`source_queues` deals them into one seeded queue per source. The
evaluation side, which nothing in the pool may come near, is minidomains: its built folder
(:func:`default_eval_folders`) and its whole class mapping (:func:`eval_mapping`).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from pathlib import Path

from steervis.data import fetch
from steervis.data.pool import sources as ps
from steervis.errors import SteervisError

log = logging.getLogger("steervis.data.pool")  # the pool build's logger


def fetch_pool_trees(progress: bool = True) -> dict[str, Path]:
    """Fetch and unpack every pool package; returns the folders the readers start from."""
    debs = ["openclipart-svg", "openclipart-png", "tuxpaint-stamps-default", "fonts-symbola"]
    got = fetch.fetch_sources(debs, progress, desc="fetch pool sources")
    return fetch.check_trees({
        "openclipart": got["openclipart-svg"] / "usr/share/openclipart/svg",
        "openclipart-png": got["openclipart-png"] / "usr/share/openclipart/png",
        "tuxpaint": got["tuxpaint-stamps-default"] / "usr/share/tuxpaint/stamps",
        "twemoji": got["twemoji"],
        "openmoji": got["openmoji"],
        "openmoji-black": got["openmoji-npm"] / "black" / "svg",
        "openmoji-json": got["openmoji-npm"] / "data" / "openmoji.json",
        "symbola": got["symbola"],
    }, what="Pool source")


def collect_candidates(trees: dict[str, Path]) -> list[ps.Candidate]:
    """Every candidate pair of every source, in a fixed order."""
    words = ps.load_emoji_words(trees["openmoji-json"])
    cands = ps.openclipart(trees["openclipart"], trees.get("openclipart-png"), ps.english_vocabulary())
    cands += ps.tuxpaint(trees["tuxpaint"])
    for source in ("twemoji", "openmoji", "openmoji-black"):
        cands += ps.emoji_svgs(source, trees[source], words)
    cands += ps.symbola(trees["symbola"], words)
    reserved = {f"{c.source} ({vendor})" for c in cands if (vendor := ps.reserved_vendor(c))}
    if reserved:  # evaluation-only vendors must never enter the pool
        raise SteervisError(f"Reserved evaluation sources reached the pool: {sorted(reserved)}")
    return cands


def default_eval_folders(progress: bool = True) -> list[Path]:
    """Evaluation folders always excluded: minidomains (built first if it is not)."""
    from steervis.data.minidomains import build_minidomains, is_complete, minidomains_root

    if not is_complete(minidomains_root()):
        log.info("the pool excludes minidomains, which is not built yet: building it first")
    return [build_minidomains(progress=progress)]


def eval_mapping() -> dict:
    """minidomains' whole mapping (``extra_classes`` too): every item it could ever put in an evaluation."""
    from steervis.data.minidomains import load_sources

    return load_sources(extra=True)


def source_queues(cands: list[ps.Candidate]) -> list[list[ps.Candidate]]:
    """One queue per source (sorted by name), each in a fixed pseudo-random order (sha1 of source/id)."""
    by_source: dict[str, list[ps.Candidate]] = defaultdict(list)
    for cand in cands:
        by_source[cand.source].append(cand)
    return [sorted(v, key=lambda c: hashlib.sha1(f"{c.source}/{c.id}".encode()).hexdigest())
            for _, v in sorted(by_source.items())]
