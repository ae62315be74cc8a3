"""Which candidates become pool pairs: excluded by origin or by perceptual hash, rendered, deduplicated.

The sources take turns to add one kept pair each, so any ``max_items`` prefix of the pool is
source-balanced. Every candidate is counted per source (examined, excluded, failed, duplicate, kept) and every
exclusion is recorded with its reason, for ``counts.csv`` and ``excluded.csv``.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steervis.data.images import BadImage, open_image, sha256_file, write_png
from steervis.data.pool import sources as ps
from steervis.data.pool.exclude import PHASH_MAX_DISTANCE, EvalSet, hashes

if TYPE_CHECKING:
    from PIL import Image as PILImage

log = logging.getLogger("steervis.data.pool")  # the pool build's logger

Render = Callable[[ps.Candidate], "PILImage.Image"]


def select_pairs(queues: list[list[ps.Candidate]], staging: Path, ev: EvalSet, render: Render,
                 max_items: int | None, progress: bool) -> tuple[list[dict], list[dict], dict, dict]:
    """Exclude, render, hash and keep candidates, the sources taking turns to add one kept pair each.

    Taking turns makes any ``max_items`` prefix source-balanced; it stops at ``max_items`` kept pairs.
    ``render`` makes a candidate's normalised image; images an interrupted run wrote to ``staging`` are
    reused. Returns the kept rows, the exclusions, per-source counts and per-source concepts.
    """
    from tqdm import tqdm

    bar = tqdm(total=max_items or sum(map(len, queues)), desc="build pool",
               unit="pair" if max_items else "item", disable=not progress, smoothing=0.05)
    selection = _Selection(staging, ev, render, bar, counting_pairs=bool(max_items))
    pending = [deque(q) for q in queues]
    while any(pending):
        for queue in pending:
            if max_items and len(selection.rows) >= max_items:
                bar.close()
                return selection.outcome()
            while queue and not selection.keep(queue.popleft()):
                pass
    bar.close()
    return selection.outcome()


class _Selection:
    """The kept rows, exclusions and per-source counts of one build, grown one candidate at a time."""

    def __init__(self, staging: Path, ev: EvalSet, render: Render, bar: Any, counting_pairs: bool):
        self.staging, self.ev, self.render, self.bar = staging, ev, render, bar
        self.counting_pairs = counting_pairs  # the bar counts kept pairs (max_items) or examined items
        self.rows: list[dict] = []
        self.excluded: list[dict] = []
        self.stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.concepts: dict[str, set[str]] = defaultdict(set)
        self.seen: set[str] = set()

    def outcome(self) -> tuple[list[dict], list[dict], dict, dict]:
        return self.rows, self.excluded, self.stats, self.concepts

    def keep(self, cand: ps.Candidate) -> bool:
        """Whether ``cand`` became a pool pair (its image written, its row added); counted either way."""
        stat = self.stats[cand.source]
        stat["examined"] += 1
        self.bar.update(0 if self.counting_pairs else 1)
        reason = self.ev.origin_reason(cand)
        if reason:
            stat["excluded_origin"] += 1
            self.excluded.append({"source": cand.source, "origin": cand.origin, "by": "origin",
                                  "reason": reason})
            return False
        try:
            img, digest = _make(cand, self.staging, self.render)
        except Exception as err:  # one broken source file costs one pair, not the build
            stat["failed"] += 1
            log.info("pool: skipped %s/%s: %s", cand.source, cand.origin,
                     err.reason if isinstance(err, BadImage) else f"{type(err).__name__}: {err}")
            return False
        h = hashes(img)
        dist, near = self.ev.nearest(h)
        if dist <= PHASH_MAX_DISTANCE:
            stat["excluded_phash"] += 1
            self.excluded.append({"source": cand.source, "origin": cand.origin, "by": "phash",
                                  "reason": f"distance {dist} to {near}"})
            return False
        digest = digest or write_png(img, self.staging / cand.rel)
        # The same pixels under another name (Open Clip Art repeats files across folders).
        if digest in self.seen:
            stat["duplicate"] += 1
            return False
        self.seen.add(digest)
        stat["files"] += 1
        self.concepts[cand.source].add(cand.concept)
        self.rows.append(_row(cand, digest, h))
        self.bar.update(1 if self.counting_pairs else 0)
        return True


def _make(cand: ps.Candidate, staging: Path, render: Render) -> tuple[PILImage.Image, str | None]:
    """The candidate's image and, when an interrupted run already wrote it, that file's sha256."""
    out = staging / cand.rel
    if out.is_file():
        return open_image(out), sha256_file(out)
    return render(cand), None


def _row(cand: ps.Candidate, digest: str, h: tuple[int, int]) -> dict:
    return {"path": cand.rel, "text": cand.text, "title": cand.title, "description": cand.description,
            "keywords": ", ".join(cand.keywords), "category": cand.category, "lang": cand.lang,
            "source": cand.source, "package": cand.package, "licence": ps.SOURCES[cand.source][1],
            "sha256": digest, "phash": f"{h[0]:016x}", "phash_ink": f"{h[1]:016x}", "concept": cand.concept,
            "origin": cand.origin}
