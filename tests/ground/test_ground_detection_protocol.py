"""``steervis evaluate --protocol detection``: grounders scored on a toy COCO folder into a run folder, with
metrics, detections and a report of drawn scenes; an oracle that returns the truth scores AP 1."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from steervis.errors import SteervisError
from steervis.eval import EvaluateConfig, evaluate
from steervis.ground.coco import read_coco
from steervis.ground.contract import Detections
from steervis.ground.grounders import GROUNDERS


class Oracle:
    """Returns each image's true boxes (found by its pixels) with score 1."""

    def __init__(self, folder):
        self.truth = {Image.open(im.path).convert("RGB").tobytes(): im for im in read_coco(folder).images}

    def ground(self, images, prompt):
        found = [self.truth[image.convert("RGB").tobytes()] for image in images]
        return [Detections(im.boxes.copy(), np.ones(len(im.phrases)), list(im.phrases)) for im in found]


@pytest.fixture
def oracle(monkeypatch, toy_coco):
    monkeypatch.setitem(GROUNDERS._entries, "oracle", lambda device="auto", dtype="auto", settings=None:
                        Oracle(toy_coco))
    return monkeypatch


def config(tmp_path, folder, grounders, **detection) -> EvaluateConfig:
    settings = {"grounders": grounders, "coco": str(folder), "part": "all", "bootstrap": 20, "drawn": 3,
                "device": "cpu", **detection}
    return EvaluateConfig(protocol="detection", detection=settings, out=str(tmp_path / "runs"))


def test_detection_protocol_writes_ap_detections_and_a_report_of_drawn_scenes(tmp_path, tmp_home, toy_coco,
                                                                              oracle):
    result = evaluate(config(tmp_path, toy_coco, ["oracle", "tiny-crop"]), progress=False)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["protocol"] == "detection" and metrics["n_images"] == 4
    assert metrics["ap"]["oracle"]["ap"] == pytest.approx(1.0) and metrics["ap"]["oracle"]["ap50"] == 1.0
    assert metrics["ap"]["oracle"]["ap_ci95"] == pytest.approx([1.0, 1.0])
    crop = metrics["ap"]["tiny-crop"]
    assert 0.0 <= crop["ap"] <= 1.0 and 0.0 <= crop["ap75"] <= crop["ap50"] <= 1.0
    assert list(result.table.index) == ["oracle", "tiny-crop"] and list(result.table.columns) == \
        ["AP", "AP50", "AP75"]
    assert "| oracle | 100.0 [100.0, 100.0] |" in (result.run_dir / "ap_ci95.md").read_text()
    preds = pd.read_parquet(result.run_dir / "predictions.parquet")
    assert (preds["grounder"] == "oracle").sum() == 9  # every true box of the four scenes, once
    for name in ("oracle", "tiny-crop"):
        assert (result.run_dir / metrics["runs"][name]["detections"]).is_file()
    page = (result.run_dir / "report.html").read_text()
    drawn = re.findall(r"<img class='drawn' alt='([^']*)' src='data:image/png;base64,([^']+)'", page)
    assert len(drawn) == 2 * 3 and drawn[0][0].startswith("oracle: 0.png")
    picture = Image.open(io.BytesIO(base64.b64decode(drawn[0][1])))
    assert picture.size == (320, 320) and "id='chart'" in page and "id='ap'" in page
    red = np.asarray(picture.convert("RGB"))[..., 0] > 200
    assert picture.getpixel((60, 60))[:3] == (220, 30, 30)  # the red square, enlarged 2.5 times
    assert picture.getpixel((20, 40))[:3] != (220, 30, 30) and red[40, 22:60].all()  # its left edge: a box


def test_a_rerun_reads_each_grounders_detections_back_without_loading_it(tmp_path, tmp_home, toy_coco,
                                                                         oracle):
    first = evaluate(config(tmp_path, toy_coco, ["oracle"]), progress=False)

    def refuse(**_):
        raise AssertionError("the grounder was loaded again")

    oracle.setitem(GROUNDERS._entries, "oracle", refuse)
    again = evaluate(config(tmp_path, toy_coco, ["oracle"]), progress=False)
    assert again.run_dir == first.run_dir and again.metrics["ap"]["oracle"]["ap"] == pytest.approx(1.0)
    assert again.metrics["runs"]["oracle"]["resumed_images"] == 4


def test_unknown_grounder_and_empty_data_are_one_sentence(tmp_path, tmp_home, toy_coco_of):
    with pytest.raises(SteervisError, match=r"Unknown grounder 'tiny-crp'\. Did you mean 'tiny-crop'\?"):
        evaluate(config(tmp_path, toy_coco_of([0]), ["tiny-crp"]), progress=False)
    with pytest.raises(SteervisError, match="holds no images in part 'all'") as err:
        evaluate(config(tmp_path, toy_coco_of([]), ["tiny-crop"]), progress=False)
    assert "\n" not in str(err.value)
    with pytest.raises(SteervisError, match="detection.grounders is empty"):
        config(tmp_path, toy_coco_of([0]), [])


def test_a_folder_of_styles_is_scored_style_by_style(tmp_path, tmp_home, toy_coco, oracle):
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = ["photo", "photo", "clipart", "clipart"]
    pq.write_table(pa.table({"image": [f"images/{k}.png" for k in range(4)], "kind": kinds}),
                   toy_coco / "scenes.parquet")
    result = evaluate(config(tmp_path, toy_coco, ["oracle"], bootstrap=0, drawn=2), progress=False)
    styles = result.metrics["ap"]["oracle"]["by_kind"]
    assert {k: v["images"] for k, v in styles.items()} == {"clipart": 2, "photo": 2}
    assert list(result.table.columns) == ["AP", "AP50", "AP75", "AP clipart", "AP photo"]
    assert result.markdown.splitlines()[2] == "| oracle | 100.0 | 100.0 | 100.0 | 100.0 | 100.0 |"
    page = (result.run_dir / "report.html").read_text()
    assert "0.png · photo" in page and "3.png · clipart" in page  # the drawn scenes span the styles
    from steervis.eval.screenshot import find_chromium, render_report

    if find_chromium() is not None:  # the page as a browser draws it: chart, table, every scene decoded
        check = render_report(result.run_dir / "report.html")
        assert check == {"chart_width": check["chart_width"], "broken_images": 0, "table_rows": 2}
        assert check["chart_width"] > 100
