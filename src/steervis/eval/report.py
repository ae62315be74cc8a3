"""report.html: accuracy table, grouped bar chart, confusion matrices, and a gallery of mistakes.

One self-contained file (charts and thumbnails inlined as base64 PNG), so it can be mailed or archived.

>>> write_report(run_dir, predictions, table, classes, metrics)  # doctest: +SKIP
PosixPath('runs/dg-.../report.html')
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis.eval.metrics import confusion

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.best{font-weight:bold;background:#e8f5e9}
.gallery{display:flex;flex-wrap:wrap;gap:12px}\
.card{border:1px solid #ddd;padding:8px;width:260px;font-size:12px}
.card img{width:96px;height:96px;object-fit:contain;background:#fff}pre{white-space:pre-wrap;font-size:11px;
max-height:160px;overflow:auto;background:#f7f7f7;padding:4px}.bad{color:#b71c1c}.good{color:#1b5e20}
"""

# After load, record what the browser actually decoded, so a headless render can check the page
# (screenshot.py).
RENDER_CHECK = """window.addEventListener('load', () => {
  const imgs = [...document.images];
  document.body.dataset.chartWidth = document.getElementById('chart').naturalWidth;
  document.body.dataset.brokenImages = imgs.filter(i => i.src && !i.naturalWidth).length;
  document.body.dataset.tableRows = document.querySelectorAll('#accuracy tr, #ap tr').length;
});"""


def png_base64(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def thumbnail_base64(path: str, size: int = 96) -> str:
    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            img.thumbnail((size, size))
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            return base64.b64encode(buf.getvalue()).decode()
    except OSError:
        return ""


def bar_chart(table: pd.DataFrame):
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    splits = list(table.columns)
    width = 0.8 / max(len(table), 1)
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(splits)), 4))
    x = np.arange(len(splits))
    for i, (method, row) in enumerate(table.iterrows()):
        ax.bar(x + i * width - 0.4 + width / 2, 100 * row.to_numpy(dtype=float), width, label=str(method))
    ax.set_xticks(x, splits)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Accuracy per held-out split")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def confusion_chart(matrix: np.ndarray, classes: list[str], title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    side = max(4, 0.28 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(side, side))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=90, fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def table_html(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    best = table.max(axis=0)
    rows = []
    for method, row in table.iterrows():
        cells = "".join(
            f"<td class='{'best' if v == best[c] else ''}'>{'—' if pd.isna(v) else f'{100 * v:.1f}'}</td>"
            for c, v in row.items()
        )
        rows.append(f"<tr><td>{html.escape(str(method))}</td>{cells}</tr>")
    return f"<table id='accuracy'><tr><th>method</th>{head}</tr>{''.join(rows)}</table>"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def rounds_chart(curves: dict[str, list[dict[str, Any]]]):
    """Target accuracy and pseudo-label precision per self-training round, one line per split/method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharex=True)
    for name, rounds in curves.items():
        xs = [r["round"] for r in rounds]
        axes[0].plot(xs, [100 * (r.get("target_accuracy") or 0) for r in rounds], marker="o", label=name)
        axes[1].plot(xs, [100 * (r.get("pseudo_accuracy") or 0) for r in rounds], marker="o", label=name)
    for ax, title in zip(axes, ("target accuracy %", "pseudo-label precision %"), strict=True):
        ax.set_title(title)
        ax.set_xlabel("self-training round")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def runs_html(runs: dict[str, dict[str, Any]]) -> str:
    """Fit and predict time per (split, method) and, for UDA, every self-training round with a chart."""
    rows, rounds, curves = [], [], {}
    for key, info in runs.items():
        entries = [(key, info)] + [(f"{key} ({v})", vinfo) for v, vinfo in info.get("variants", {}).items()]
        for name, entry in entries:
            speed = entry.get("images_per_s")
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{entry.get('fit_s', '')}</td>"
                        f"<td>{entry.get('predict_s', '')}</td>"
                        f"<td>{'' if speed is None else speed}</td></tr>")
        if info.get("rounds"):
            curves[key] = info["rounds"]
        for r in info.get("rounds", []):
            stop = " (stopped: settled)" if r.get("stopped_early") else ""
            rounds.append(f"<tr><td>{html.escape(key)}</td><td>{r['round']}{stop}</td>"
                          f"<td>{r.get('pseudo', '')}</td>"
                          f"<td>{_pct(r.get('changed'))}</td><td>{r.get('classes_covered', '')}</td>"
                          f"<td>{_pct(r.get('pseudo_accuracy'))}</td><td>{_pct(r.get('pseudo_recall'))}</td>"
                          f"<td>{_pct(r.get('target_accuracy'))}</td></tr>")
    out = ("<h2>Time</h2><table id='runs'><tr><th>split/method</th><th>fit s</th><th>predict s</th>"
           f"<th>images/s</th></tr>{''.join(rows)}</table>")
    if rounds:
        import matplotlib.pyplot as plt

        fig = rounds_chart(curves)
        chart = png_base64(fig)
        plt.close(fig)
        out += ("<h2>Self-training rounds</h2><p>Target labels are read only to log these numbers. Changed: "
                "share of target items whose pseudo-label differs from the previous round's; precision: kept "
                "pseudo-labels that are right; recall: target items with a right pseudo-label.</p>"
                "<table id='rounds'><tr><th>split/method</th><th>round</th><th>pseudo-labels</th>"
                "<th>changed %</th><th>classes covered</th><th>precision %</th><th>recall %</th>"
                f"<th>target accuracy %</th></tr>{''.join(rounds)}</table>"
                f"<img id='rounds-chart' alt='self-training rounds' src='data:image/png;base64,{chart}'>")
    return out


def gallery_html(preds: pd.DataFrame, method: str, limit: int) -> str:
    wrong = preds[(preds["method"] == method) & (preds["pred"] != preds["class"])]
    wrong = wrong.sort_values("confidence", ascending=False).head(limit)  # the most confident mistakes first
    cards = []
    for row in wrong.itertuples(index=False):
        top3 = ", ".join(f"{html.escape(c)} {100 * p:.0f}%" for c, p in json.loads(row.top3))
        desc = f"<pre>{html.escape(row.description)}</pre>" if row.description else ""
        cards.append(
            f"<div class='card'><img alt='{html.escape(row.path)}' src='data:image/png;base64,"
            f"{thumbnail_base64(row.path)}'><div>truth: <b class='good'>{html.escape(row[4])}</b> · "
            f"{html.escape(row.domain)}</div><div>top-3: <span class='bad'>{top3}</span></div>{desc}</div>"
        )
    return f"<div class='gallery'>{''.join(cards) or '<p>No mistakes.</p>'}</div>"


def write_report(run_dir: Path, preds: pd.DataFrame, table: pd.DataFrame, classes: list[str],
                 metrics: dict[str, Any], gallery: int = 12) -> Path:
    import matplotlib.pyplot as plt

    fig = bar_chart(table.drop(columns=["mean"]) if "mean" in table else table)
    fig.savefig(run_dir / "accuracy.png", dpi=100, bbox_inches="tight")
    chart = png_base64(fig)
    plt.close(fig)
    sections = []
    for method in table.index:
        sub = preds[preds["method"] == method]
        cfig = confusion_chart(confusion(sub, classes), classes, f"{method}: confusion over all splits")
        sections.append(
            f"<section class='method' data-method='{html.escape(str(method))}'>"
            f"<h2>{html.escape(str(method))}</h2>"
            f"<img class='confusion' alt='confusion matrix {html.escape(str(method))}' "
            f"src='data:image/png;base64,{png_base64(cfig)}'>"
            f"<h3>Most confident mistakes</h3>{gallery_html(preds, method, gallery)}</section>"
        )
        plt.close(cfig)
    body = (
        f"<h1>steervis evaluation: {html.escape(metrics['protocol'].upper())}</h1>"
        f"<p>{metrics['n_images']} images, {len(classes)} classes, domains: "
        f"{html.escape(', '.join(metrics['domains']))}. Accuracy in % (best per column in bold).</p>"
        f"{table_html(table)}<img id='chart' alt='accuracy per split' src='data:image/png;base64,{chart}'>"
        + runs_html(metrics.get("runs", {})) + "".join(sections)
    )
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>steervis report</title>" \
           f"<style>{STYLE}</style></head><body>{body}<script>{RENDER_CHECK}</script></body></html>"
    path = run_dir / "report.html"
    from steervis.atomic import write_text

    return write_text(path, page)
