"""Textual domain shift: which words each domain's descriptions use, and how far a held-out domain's words sit
from those of the domains a model trained on.

A description's words are its items per component: each tag, each attribute, each caption word. Per domain
they form a frequency distribution; the shift of a held-out domain is the Jensen–Shannon divergence (base 2,
so 0 = same words, 1 = no word in common) between its distribution and the pooled one of the other domains.

>>> import pandas as pd
>>> from steervis.vllavo.describe.description import Description
>>> frame = pd.DataFrame({"domain": ["photo", "photo", "sketch"]})
>>> descs = [Description(tags=[("dog", 1.0)]), Description(tags=[("dog", 1.0)]),
...          Description(tags=[("hook", 1.0)])]
>>> top_items(frame, descs, "tags", k=1)["sketch"]
[('hook', 1)]
>>> round(held_out_divergence(frame, descs, "tags")["sketch"], 3)
1.0
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis.classes import names_class
from steervis.vllavo.describe.description import COMPONENTS

_WORD = re.compile(r"[a-z][a-z'-]+")  # caption words: lower-case letters, no numbers or punctuation


def items(description: Any, component: str) -> list[str]:
    """The words a description carries in one component (tags and attributes whole, captions word by word)."""
    if description is None:
        return []
    if component == "captions":
        return [w for caption in description.captions for w in _WORD.findall(caption.lower())]
    return [str(entry[0]) for entry in getattr(description, component)]


def counts_by_domain(frame: pd.DataFrame, descriptions: list[Any], component: str) -> dict[str, Counter]:
    """Per domain, how often each item occurs in ``component``."""
    out: dict[str, Counter] = {}
    for domain, description in zip(frame["domain"], descriptions, strict=True):
        out.setdefault(domain, Counter()).update(items(description, component))
    return out


def top_items(frame: pd.DataFrame, descriptions: list[Any], component: str = "tags",
              k: int = 8) -> dict[str, list[tuple[str, int]]]:
    """The ``k`` most frequent items of ``component`` per domain."""
    return {d: c.most_common(k) for d, c in sorted(counts_by_domain(frame, descriptions, component).items())}


def js_divergence(a: Counter, b: Counter) -> float:
    """Jensen–Shannon divergence (base 2, in [0, 1]) between two word-count distributions."""
    from scipy.spatial.distance import jensenshannon

    vocab = sorted(set(a) | set(b))
    if not vocab or not sum(a.values()) or not sum(b.values()):
        return float("nan")
    p = np.array([a[w] for w in vocab], dtype=np.float64)
    q = np.array([b[w] for w in vocab], dtype=np.float64)
    return float(jensenshannon(p, q, base=2) ** 2)  # scipy returns the distance: the divergence's square root


def held_out_divergence(frame: pd.DataFrame, descriptions: list[Any], component: str) -> dict[str, float]:
    """Per domain: JS divergence between its words and the pooled words of every other domain."""
    counts = counts_by_domain(frame, descriptions, component)
    out = {}
    for domain in sorted(counts):
        rest = Counter()
        for other, c in counts.items():
            if other != domain:
                rest.update(c)
        out[domain] = js_divergence(counts[domain], rest)
    return out


def class_naming_rate(frame: pd.DataFrame, descriptions: list[Any], component: str) -> dict[str, float]:
    """Per domain: the share of images whose ``component`` names their own class
    (:func:`steervis.classes.names_class`)."""
    hits: dict[str, list[bool]] = {}
    for domain, cls, description in zip(frame["domain"], frame["class"], descriptions, strict=True):
        text = " ".join(items(description, component))
        hits.setdefault(domain, []).append(names_class(text, str(cls)))
    return {d: float(np.mean(v)) for d, v in sorted(hits.items())}


def text_shift(frame: pd.DataFrame, descriptions: list[Any], k: int = 8) -> dict[str, Any]:
    """Top items, held-out divergence and class-naming rate per domain, for every component that has words."""
    out: dict[str, Any] = {}
    for component in COMPONENTS:
        if not any(items(d, component) for d in descriptions):
            continue
        out[component] = {"top": top_items(frame, descriptions, component, k),
                          "js_to_other_domains": held_out_divergence(frame, descriptions, component),
                          "names_class": class_naming_rate(frame, descriptions, component)}
    return out


def plot_text_shift(shift: dict[str, Any], path: str | Path, title: str = "") -> Path:
    """Bars per domain: JS divergence to the other domains and the class-naming rate, one panel per
    component."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    components = [c for c in COMPONENTS if c in shift]
    fig, axes = plt.subplots(1, len(components), figsize=(4.2 * len(components), 3.2), squeeze=False)
    for ax, component in zip(axes[0], components, strict=True):
        domains = list(shift[component]["js_to_other_domains"])
        x = np.arange(len(domains))
        ax.bar(x - 0.2, [shift[component]["js_to_other_domains"][d] for d in domains], 0.4,
               label="JS to other domains")
        ax.bar(x + 0.2, [shift[component]["names_class"][d] for d in domains], 0.4, label="names its class")
        ax.set_xticks(x, domains)
        ax.set_ylim(0, 1)
        ax.set_title(f"{title} {component}".strip())
    axes[0][0].legend(loc="upper left", fontsize=8)
    return _save(fig, path)


def _save(fig: Any, path: str | Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run_accuracy(run: str | Path, method: str) -> dict[str, float]:
    """Per held-out domain, ``method``'s accuracy (%) in a finished ``steervis evaluate`` run folder."""
    import json

    from steervis.errors import SteervisError
    from steervis.outputs import require_finished

    require_finished(run)
    path = Path(run) / "metrics.json"
    if not path.is_file():
        raise SteervisError(f"{path} does not exist: give the folder of a finished `steervis evaluate` run.")
    accuracy = json.loads(path.read_text())["accuracy"]
    if method not in accuracy:
        raise SteervisError(f"{run} has no method {method!r}: it has {', '.join(accuracy)}.")
    # metrics.json holds fractions
    return {d: 100 * float(v) for d, v in accuracy[method].items() if d != "mean"}


def shift_vs_accuracy(shift: dict[str, Any], accuracy: dict[str, float]) -> dict[str, Any]:
    """Per component: each held-out domain's JS divergence (and class-naming rate) beside the accuracy on it,
    with Pearson's r of each against accuracy.

    With four domains r is a description, not a test: one domain moves it a lot (say so when quoting it)."""

    def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
        return float(np.corrcoef(x, y)[0, 1]) if len(x) > 2 and x.std() > 0 and y.std() > 0 else None

    out = {}
    for component, numbers in shift.items():
        domains = [d for d in numbers["js_to_other_domains"] if d in accuracy]
        js = np.array([numbers["js_to_other_domains"][d] for d in domains])
        named = np.array([numbers["names_class"][d] for d in domains])
        acc = np.array([accuracy[d] for d in domains])
        out[component] = {"points": {d: {"js": round(float(j), 4), "names_class": round(float(n), 4),
                                         "accuracy": round(float(a), 1)}
                                     for d, j, n, a in zip(domains, js, named, acc, strict=True)},
                          "pearson_r": pearson(js, acc), "pearson_r_names_class": pearson(named, acc)}
    return out


def plot_shift_vs_accuracy(relation: dict[str, Any], path: str | Path, title: str = "") -> Path:
    """Scatter per component: JS divergence of a held-out domain's words (x) against the accuracy on it
    (y)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(relation), figsize=(4.2 * len(relation), 3.2), squeeze=False)
    for ax, (component, numbers) in zip(axes[0], relation.items(), strict=True):
        for domain, point in numbers["points"].items():
            ax.scatter(point["js"], point["accuracy"])
            ax.annotate(domain, (point["js"], point["accuracy"]), fontsize=8)
        r = numbers["pearson_r"]
        ax.set_title(f"{title} {component}" + ("" if r is None else f" (r = {r:.2f})"))
        ax.set_xlabel("JS to the training domains' words")
        ax.set_ylabel("accuracy %")
    return _save(fig, path)


def study_text_shift(data: str | None = None, k: int = 8, plot: str = "", run: str = "",
                     method: str = "describe-decide", **describe: Any) -> dict[str, Any]:
    """``steervis study text-shift``: describe a dataset (minidomains by default) with ``describe`` settings
    (e.g. ``--set matcher=react-pool --set tagger=vocab``) and report its textual domain shift; ``plot`` names
    a PNG to draw it in. With ``run`` (a finished DG ``steervis evaluate`` folder), each held-out domain's
    divergence is set beside ``method``'s accuracy on it (``<plot>-accuracy.png`` draws that)."""
    from steervis.methods.context import MethodContext
    from steervis.methods.task import open_task

    task = open_task(data, check_progress=False)  # a quiet folder check, as ever
    frame = task.frame
    context = MethodContext(describe=describe, images=task.images)
    context.describe = task.describer(context.describe)  # class tags, react: these classes
    descriptions = context.descriptions(frame)
    shift = text_shift(frame, descriptions, k)
    used = {key: getattr(context.describe, key)
            for key in ("matcher", "tagger", "class_tags", "class_prompts", "pool_captions",
                        "pool_caption_style", "captioner")}
    relation = shift_vs_accuracy(shift, run_accuracy(run, method)) if run else None
    if plot:
        plot_text_shift(shift, plot, title=used["matcher"])
        if relation:
            plot_shift_vs_accuracy(relation, Path(plot).with_name(Path(plot).stem + "-accuracy.png"),
                                   title=method)
    extra = {"vs_accuracy": {"run": str(run), "method": method, **relation}} if relation else {}
    return {"describe": used, "images": len(frame), **shift, **extra, **({"plot": plot} if plot else {})}
