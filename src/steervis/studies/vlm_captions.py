"""Captions of a trained VLM on a labelled dataset: an HTML page of images and their captions, and per domain
the rate at which a caption names the image's class (the check that stage 2 learnt object identity), beside
the rate at which a matcher's first vocabulary tag names it (class tags off: the matcher is not told the
classes).

    steervis study vlm-captions --set model=stage2 --set per_domain=20 --set report=runs/captions.html
    steervis study vlm-captions --set data=heldout-pool --set tags=[conse]   # concepts no model trained on

``data=heldout-pool`` reads the pool's held-out concepts (one domain per pool source, the concept as class):
neither steervis' LLaVA nor ConSE trained on them; react-pool did, so compare against ConSE's tags only.

The page embeds thumbnails read from the dataset in the cache; it is written under ``runs/`` (not in git).

>>> from steervis.studies.vlm_captions import pick_per_domain
>>> import pandas as pd
>>> frame = pd.DataFrame({"domain": ["a", "a", "a", "b"], "class": ["x", "y", "z", "x"]})
>>> pick_per_domain(frame, 2, seed=0)["domain"].tolist()
['a', 'a', 'b']
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd


def pick_per_domain(frame: pd.DataFrame, per_domain: int, seed: int) -> pd.DataFrame:
    """A seeded sample of ``per_domain`` rows of each domain (all of a smaller domain), in domain order."""
    parts = [rows.sample(n=min(per_domain, len(rows)), random_state=seed)
             for _, rows in frame.groupby("domain", sort=True)]
    return pd.concat(parts).reset_index(drop=True) if parts else frame.iloc[:0]


def captions_page(chosen: pd.DataFrame, captions: list[list[str]], rates: dict[str, float],
                  model: str) -> str:
    """A self-contained HTML page: the naming rate per domain, then every image with its captions."""
    from steervis.eval.report import STYLE, thumbnail_base64

    head = "".join(f"<th>{html.escape(d)}</th>" for d in rates)
    cells = "".join(f"<td>{100 * r:.0f}</td>" for r in rates.values())
    cards = []
    for row, caps in zip(chosen.itertuples(index=False), captions, strict=True):
        said = "".join(f"<li>{html.escape(c) or '<i>(empty)</i>'}</li>" for c in caps)
        cards.append(f"<div class='card'><img alt='{html.escape(row.path)}' src='data:image/png;base64,"
                     f"{thumbnail_base64(row.path)}'><div>"
                     f"<b>{html.escape(str(row[chosen.columns.get_loc('class')]))}"
                     f"</b> · {html.escape(row.domain)}</div><ul>{said}</ul></div>")
    body = (f"<h1>Captions by {html.escape(model)}</h1><p>{len(chosen)} images. A caption names the class "
            f"when the class name or its plural appears as whole words (_ and - read as spaces).</p>"
            f"<table id='naming'><tr><th>names the class %"
            f"</th>{head}</tr><tr><td>{html.escape(model)}</td>{cells}</tr></table>"
            f"<div class='gallery'>{''.join(cards)}</div>")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>steervis captions</title>" \
           f"<style>{STYLE}</style></head><body>{body}</body></html>"


HELDOUT_POOL = "heldout-pool"


def heldout_pool_frame() -> pd.DataFrame:
    """The pool's rows of held-out concepts: ``domain`` = the pool source, ``class`` = the concept name."""
    from steervis.data.heldout import concept_name, load_heldout
    from steervis.data.pool import pool_root

    root = Path(pool_root())
    manifest = pd.read_parquet(root / "manifest.parquet")
    held = load_heldout()
    names = manifest["text"].map(concept_name)
    rows = manifest[[n in held for n in names]]
    return pd.DataFrame({"path": [str(root / p) for p in rows["path"]], "sha256": rows["sha256"].to_numpy(),
                         "domain": rows["source"].to_numpy(), "class": names[rows.index].to_numpy()})


def first_tag_rates(chosen: pd.DataFrame, matcher: str) -> dict[str, float]:
    """Per domain: how often the matcher's first vocabulary tag names the class (no class tags)."""
    from steervis.studies.textshift import class_naming_rate
    from steervis.vllavo.describe import DescribeConfig, describe
    from steervis.vllavo.describe.description import Description

    config = DescribeConfig(matcher=matcher, tagger="vocab", class_tags=0, attribute_vocab="",
                            pool_captions=0)
    first = [Description(tags=d.tags[:1] if d else []) for d in describe(chosen, config, progress=False)]
    return class_naming_rate(chosen, first, "tags")


def vlm_captions(model: str = "stage2", per_domain: int = 20, samples: int = 0, data: str | None = None,
                 seed: int = 0, max_new_tokens: int = 30, report: str = "",
                 tags: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """``steervis study vlm-captions``: caption ``per_domain`` seeded images of each domain (greedy, plus
    ``samples`` sampled captions) and report per domain how often a caption names the image's class, and
    how often each of ``tags``' matchers' first vocabulary tag does."""
    from steervis.atomic import write_text
    from steervis.data import load_folder, minidomains_root
    from steervis.data.images import open_image
    from steervis.llava.vlms import open_vlm
    from steervis.studies.textshift import class_naming_rate
    from steervis.vllavo.describe.description import Description

    frame = (heldout_pool_frame() if data == HELDOUT_POOL
             else load_folder(data or minidomains_root(), progress=False).frame)
    chosen = pick_per_domain(frame, per_domain, seed)
    vlm = open_vlm(model)
    captions: list[list[str]] = []
    for start in range(0, len(chosen), 8):  # batches of 8: batched generation, bounded memory
        images = [open_image(p) for p in chosen["path"].iloc[start : start + 8]]
        captions += vlm.caption(images, beams=1, samples=samples, max_new_tokens=max_new_tokens, seed=seed)
    greedy = [Description(captions=caps[:1]) for caps in captions]
    every = [Description(captions=caps) for caps in captions]
    rates = class_naming_rate(chosen, greedy, "captions")
    out: dict[str, Any] = {"model": model, "images": len(chosen), "names_class_greedy": rates}
    if samples:
        out["names_class_any"] = class_naming_rate(chosen, every, "captions")
    out["first_tag_names_class"] = {m: first_tag_rates(chosen, m) for m in tags}
    out["examples"] = [{"domain": d, "class": c, "captions": caps} for d, c, caps in
                       zip(chosen["domain"], chosen["class"], captions, strict=True)]
    if report:
        write_text(Path(report), captions_page(chosen, captions, rates, model))
        out["report"] = report
    return out
