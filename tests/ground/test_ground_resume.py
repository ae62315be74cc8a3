"""``steervis ground eval --out X.json`` keeps its detections in ``X.detections.jsonl`` batch by batch: a
killed run (a torn last line included) resumes without grounding an image twice, and a run of another
identity starts again."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from steervis.cli import main
from steervis.ground.coco import read_coco
from steervis.ground.contract import Detections
from steervis.ground.detection_log import DetectionLog, log_path
from steervis.ground.run import evaluate


class CountingGrounder:
    """A tiny deterministic grounder: one box per phrase, placed and scored by the image's pixels; it
    records how many images it was asked about."""

    def __init__(self):
        self.seen = 0

    def ground(self, images, prompt):
        self.seen += len(images)
        phrases = [p.strip() for p in prompt.split(".") if p.strip()]
        out = []
        for image in images:
            pixels = np.asarray(image, dtype=np.float32)
            means = pixels.reshape(-1, 3).mean(0) / 255
            boxes = np.asarray([[8 * k + 3.3, 10.7, 8 * k + 50.1, 60.9] for k in range(len(phrases))],
                               dtype=np.float32)
            out.append(Detections(boxes, means[: len(phrases)] / 3, list(phrases)))
        return out


IDENTITY = {"key": "k1", "kind": "ground-detections"}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_killed_evaluation_resumes_from_its_closed_batches(toy_coco, tmp_path):
    coco = read_coco(toy_coco)
    path = tmp_path / "ap.detections.jsonl"
    whole = evaluate(CountingGrounder(), coco, batch_size=1, log=DetectionLog(path, IDENTITY))
    full = path.read_bytes()
    lines = full.split(b"\n")
    assert json.loads(lines[0])["identity"] == IDENTITY and len(_lines(path)) == 1 + 4 * (3 + 1)
    # killed while writing the third image's batch: two closed batches, one row of the next, a torn line
    cut = b"\n".join(lines[: 1 + 2 * 4 + 1]) + b"\n" + lines[10][:17]
    path.write_bytes(cut)
    grounder = CountingGrounder()
    resumed = evaluate(grounder, coco, batch_size=1, log=DetectionLog(path, IDENTITY))
    assert grounder.seen == 2 and resumed["resumed_images"] == 2 and whole["resumed_images"] == 0
    assert {k: resumed[k] for k in ("ap", "ap50", "ap75")} == {k: whole[k] for k in ("ap", "ap50", "ap75")}
    assert path.read_bytes() == full  # the torn tail cut off, the rest appended as an unbroken run writes it


def test_another_identity_starts_again_and_a_finished_file_grounds_nothing(toy_coco, tmp_path):
    coco = read_coco(toy_coco)
    path = tmp_path / "ap.detections.jsonl"
    evaluate(CountingGrounder(), coco, batch_size=2, log=DetectionLog(path, IDENTITY))
    again = CountingGrounder()
    assert evaluate(again, coco, log=DetectionLog(path, IDENTITY))["resumed_images"] == 4 and again.seen == 0
    other = CountingGrounder()
    result = evaluate(other, coco, log=DetectionLog(path, {**IDENTITY, "key": "k2"}))
    assert other.seen == 4 and result["resumed_images"] == 0
    assert _lines(path)[0]["identity"]["key"] == "k2" and len(_lines(path)) == 1 + 4 * 3 + 1


def test_a_damaged_header_or_row_is_never_read(toy_coco, tmp_path):
    coco = read_coco(toy_coco)
    path = tmp_path / "ap.detections.jsonl"
    path.write_text('{"identity": {"key": "k1"')  # killed while writing its first line
    grounder = CountingGrounder()
    evaluate(grounder, coco, batch_size=2, log=DetectionLog(path, IDENTITY))
    lines = path.read_text().splitlines(keepends=True)
    assert grounder.seen == 4 and json.loads(lines[0])["identity"] == IDENTITY
    path.write_text("".join(lines[:3]) + '{"image_id": 2, "bbox": "?"}\n' + "".join(lines[3:]))
    log = DetectionLog(path, IDENTITY)
    assert log.rows == {} and path.read_text() == lines[0]  # nothing closed before the damaged line


def test_ground_eval_keeps_the_detections_beside_the_result_and_resumes(toy_coco, tmp_path, capsys):
    out = tmp_path / "ap.json"
    args = ["ground", "eval", "--grounder", "tiny-crop", "--coco", str(toy_coco), "--part", "all",
            "--bootstrap", "0", "--set", "device=cpu", "--quiet", "--out", str(out)]
    assert main(args) == 0
    first = json.loads(out.read_text())
    kept = log_path(out)
    assert kept.name == "ap.detections.jsonl" and first["detections"] == kept.name
    header, *rows = _lines(kept)
    config = header["identity"]["config"]
    assert (config["grounder"], config["part"], config["prompts"], config["images"]) == ("tiny-crop", "all",
                                                                                          "names", 4)
    assert header["identity"]["code"] == {"data": 1, "matchers": 1} and len(header["identity"]["key"]) == 16
    results = [r for r in rows if "image_id" in r]
    assert results and {r["image_id"] for r in results} <= {1, 2, 3, 4}
    assert rows[-1] == {"images": [1, 2, 3, 4]}
    kept.write_text(kept.read_text()[:-5])  # killed while closing its only batch: nothing is done
    assert main(args) == 0
    again = json.loads(out.read_text())
    assert again["resumed_images"] == 0 and again["ap"] == first["ap"] and _lines(kept)[1:] == rows
    assert main(args) == 0
    assert json.loads(out.read_text())["resumed_images"] == 4
    assert main([*args, "--threshold", "0.5"]) == 0  # another threshold: another evaluation
    changed = json.loads(out.read_text())
    assert changed["resumed_images"] == 0 and _lines(kept)[0]["identity"]["config"]["threshold"] == 0.5
    assert all(r["score"] > 0.5 for r in _lines(kept)[1:] if "image_id" in r)
    assert main([*args, "--threshold", "0.5", "--nms-iou", "0.3"]) == 0  # another NMS: another evaluation
    assert json.loads(out.read_text())["resumed_images"] == 0
    assert _lines(kept)[0]["identity"]["config"]["nms_iou"] == 0.3
    capsys.readouterr()


class _TruthFor:
    """Finds every box of the images it is told about (in evaluation order) and nothing in the others."""

    def __init__(self, coco, found):
        self.answers = iter([(im, im.id in found) for im in coco.images])

    def ground(self, images, prompt):
        out = []
        for _ in images:
            image, finds = next(self.answers)
            out.append(Detections(image.boxes, np.full(len(image.phrases), 0.9, np.float32), image.phrases)
                       if finds else Detections.empty())
        return out


def test_a_scenes_folder_is_also_scored_style_by_style(toy_coco):
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = ["photo", "photo", "clipart", "clipart"]
    pq.write_table(pa.table({"image": [f"images/{k}.png" for k in range(4)], "kind": kinds}),
                   toy_coco / "scenes.parquet")
    coco = read_coco(toy_coco)
    result = evaluate(_TruthFor(coco, found={1, 2}), coco, batch_size=2)
    assert result["by_kind"]["photo"]["ap"] == pytest.approx(1.0)
    assert result["by_kind"]["clipart"]["ap"] == 0.0
    assert 0.0 < result["ap"] < 1.0 and result["by_kind"]["photo"]["images"] == 2
    assert "by_kind" not in evaluate(_TruthFor(coco, found={1}), read_coco(toy_coco, limit=2))  # one style


class _Truth:
    """Finds every box of the prompted phrases, knowing each image by its pixels; records its prompts."""

    def __init__(self, coco):
        from steervis.data.images import open_image

        self.by_pixels = {open_image(im.path).tobytes(): im for im in coco.images}
        self.prompts = []

    def ground(self, images, prompt):
        phrases = [p.strip() for p in prompt.split(".") if p.strip()]
        self.prompts.append(phrases)
        out = []
        for picture in images:
            image = self.by_pixels[picture.tobytes()]
            keep = [k for k, phrase in enumerate(image.phrases) if phrase in phrases]
            out.append(Detections(image.boxes[keep], np.full(len(keep), 0.9, np.float32),
                                  [image.phrases[k] for k in keep]))
        return out


def test_more_names_than_a_prompt_holds_are_asked_in_several_prompts(toy_coco, monkeypatch):
    coco = read_coco(toy_coco)
    whole = evaluate(_Truth(coco), coco, batch_size=4)
    monkeypatch.setattr("steervis.ground.run.MAX_PHRASES", 2)  # three colour names: two prompts
    oracle = _Truth(coco)
    split = evaluate(oracle, coco, batch_size=4)
    assert [len(p) for p in oracle.prompts] == [2, 1] and split["ap"] == whole["ap"] == pytest.approx(1.0)


class _Misnamer(_Truth):
    """Finds every box of every image and gives each the name of another colour."""

    def ground(self, images, prompt):
        names = sorted({p.strip() for p in prompt.split(".") if p.strip()})
        found = super().ground(images, ". ".join(names))
        wrong = {name: names[(k + 1) % len(names)] for k, name in enumerate(names)}
        return [Detections(d.boxes, d.scores, [wrong[p] for p in d.phrases]) for d in found]


def test_class_agnostic_ap_scores_finding_apart_from_naming(toy_coco):
    coco = read_coco(toy_coco)
    result = evaluate(_Misnamer(coco), coco, batch_size=4)
    assert result["ap"] == 0.0 and result["class_agnostic"]["ap"] == pytest.approx(1.0)
    right = evaluate(_Truth(coco), coco, batch_size=4)
    assert right["ap"] == right["class_agnostic"]["ap"] == pytest.approx(1.0)
