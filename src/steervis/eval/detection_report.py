"""report.html of the detection protocol: the AP table with intervals, a chart, the time each grounder took,
and the same few scenes drawn for every grounder (true boxes dark, detections coloured with their scores).

The page is built as the classification report is (its style, inline base64 PNGs, the render check of
:mod:`steervis.eval.screenshot`), so it too can be mailed or archived as one file.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis.atomic import write_text
from steervis.eval.config import DetectionConfig
from steervis.eval.report import RENDER_CHECK, STYLE, png_base64

SCENE_SIDE = 320  # drawn scenes are resized to this before drawing: labels stay readable on photos and icons
MAX_DRAWN_BOXES = 20  # the best ones: more hide the scene
SCENE_STYLE = ".scene{width:330px}.scene img{width:auto;height:auto}"


def cell(result: dict[str, Any], metric: str) -> str:
    """A metric in % with its 95 % interval where it has one: ``31.2 [28.0, 34.5]``."""
    interval = result.get(f"{metric}_ci95")
    text = f"{100 * result[metric]:.1f}"
    return text + (f" [{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]" if interval else "")


def ap_chart(metrics: dict[str, Any]):
    """AP and AP50 per grounder, with their 95 % intervals where computed."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    names = list(metrics["ap"])
    fig, ax = plt.subplots(figsize=(max(5, 1.4 * len(names)), 3.6))
    x = np.arange(len(names))
    for i, metric in enumerate(("ap", "ap50")):
        values = np.array([100 * metrics["ap"][n][metric] for n in names])
        bounds = [metrics["ap"][n].get(f"{metric}_ci95") for n in names]
        err = None
        if all(bounds):
            err = np.abs(np.array([[100 * lo, 100 * hi] for lo, hi in bounds]).T - values)
        ax.bar(x + (i - 0.5) * 0.38, values, 0.38, yerr=err, capsize=3, label=metric.upper())
    ax.set_xticks(x, names)
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    ax.set_title("COCO AP@[.5:.95] and AP50 per grounder (95 % intervals)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def ap_html(table: pd.DataFrame, metrics: dict[str, Any]) -> str:
    """The table: AP, AP50 and AP75 in % with intervals, AP per style; the best of each column in bold."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    best = table.max(axis=0)
    rows = []
    for name, row in table.iterrows():
        result = metrics["ap"][name]
        cells = []
        for column, value in row.items():
            kind = column[3:] if column.startswith("AP ") else ""
            text = cell(result["by_kind"][kind], "ap") if kind else cell(result, column.lower())
            cls = "best" if value == best[column] else ""
            cells.append(f"<td class='{cls}'>{'—' if pd.isna(value) else html.escape(text)}</td>")
        rows.append(f"<tr><td>{html.escape(str(name))}</td>{''.join(cells)}</tr>")
    return f"<table id='ap'><tr><th>grounder</th>{head}</tr>{''.join(rows)}</table>"


def picked(coco: Any, count: int) -> list[Any]:
    """``count`` images spread evenly over the set (its styles, where it is sorted by them)."""
    n = len(coco.images)
    at = sorted({int(round(k)) for k in np.linspace(0, n - 1, min(count, n))}) if count > 0 else []
    return [coco.images[k] for k in at]


def scene_png(image: Any, detections: Any, threshold: float) -> tuple[str, int]:
    """One scene resized to :data:`SCENE_SIDE`, its true boxes and its detections above ``threshold`` drawn;
    the PNG as base64 and the number of detections drawn."""
    from steervis.data.images import open_image
    from steervis.ground.contract import Detections
    from steervis.ground.draw import draw_detections, draw_truth

    picture = open_image(image.path)
    scale = SCENE_SIDE / max(picture.size)
    picture = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))))
    keep = np.flatnonzero(np.asarray(detections.scores) > threshold)[:MAX_DRAWN_BOXES]
    shown = Detections(np.asarray(detections.boxes)[keep] * scale, np.asarray(detections.scores)[keep],
                       [detections.phrases[k] for k in keep])
    drawn = draw_detections(draw_truth(picture, np.asarray(image.boxes) * scale, image.phrases), shown)
    buf = io.BytesIO()
    drawn.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode(), len(keep)


def scenes_html(name: str, coco: Any, found: dict[int, Any], settings: DetectionConfig) -> str:
    cards = []
    for image in picked(coco, settings.drawn):
        png, shown = scene_png(image, found[image.id], settings.draw_threshold)
        where = html.escape(Path(image.path).name + (f" · {image.kind}" if image.kind else ""))
        cards.append(f"<div class='card scene'><img class='drawn' alt='{html.escape(name)}: {where}' "
                     f"src='data:image/png;base64,{png}'><div>{where}</div><div>truth: {len(image.phrases)} "
                     f"boxes · drawn: {shown} of {len(found[image.id])} detections</div></div>")
    return f"<div class='gallery'>{''.join(cards)}</div>"


def runs_html(metrics: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{info.get('seconds', '')}</td>"
                   f"<td>{info.get('resumed_images', 0)}</td></tr>" for name, info in metrics["runs"].items())
    return ("<h2>Time</h2><table id='runs'><tr><th>grounder</th><th>grounding s</th><th>images resumed</th>"
            f"</tr>{rows}</table>")


def write_detection_report(run_dir: Path, coco: Any, found: dict[str, dict[int, Any]], table: pd.DataFrame,
                           metrics: dict[str, Any], settings: DetectionConfig) -> Path:
    import matplotlib.pyplot as plt

    fig = ap_chart(metrics)
    fig.savefig(run_dir / "ap.png", dpi=100, bbox_inches="tight")
    chart = png_base64(fig)
    plt.close(fig)
    sections = "".join(
        f"<section class='grounder' data-grounder='{html.escape(name)}'><h2>{html.escape(name)}</h2>"
        f"{scenes_html(name, coco, found[name], settings)}</section>" for name in found)
    data, part = html.escape(metrics["data"]), html.escape(metrics["part"])
    body = (
        "<h1>steervis evaluation: DETECTION</h1>"
        f"<p>{metrics['n_images']} images of {data} (part {part}), {len(metrics['categories'])} categories, "
        "each image prompted with every category name. COCO AP@[.5:.95], AP50 and AP75 in %, 95 % bootstrap "
        "intervals over the images in brackets (best per column in bold).</p>"
        f"{ap_html(table, metrics)}<img id='chart' alt='AP per grounder' src='data:image/png;base64,{chart}'>"
        f"{runs_html(metrics)}<h2>Scenes</h2><p>The same scenes for every grounder: true boxes dark with "
        f"their phrase beneath, detections scoring above {settings.draw_threshold} in colour with phrase and "
        f"score.</p>{sections}"
    )
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>steervis detection report</title>"
            f"<style>{STYLE}{SCENE_STYLE}</style></head><body>{body}<script>{RENDER_CHECK}</script></body>"
            "</html>")
    return write_text(run_dir / "report.html", page)
