"""Bootstrap intervals for COCO AP: a resample pooled from pycocotools' per-image matches scores what
pycocotools scores on the drawn images as separate copies; the interval holds the point AP, also over many
rare names where the draws sit above it; a perfect detector's is [1, 1]."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from steervis.ground.coco import coco_ap
from steervis.ground.intervals import bootstrap_ap, draw_ap, pooled

# (image, category, box xywh) of the truth; detections add a score. Image 4 has no boxes, only a false alarm.
TRUTH = [(1, 1, [0, 0, 50, 50]), (1, 2, [60, 60, 30, 30]), (2, 1, [10, 10, 40, 40]), (3, 2, [0, 0, 80, 40]),
         (3, 1, [50, 50, 40, 40]), (5, 1, [20, 20, 30, 30])]
FOUND = [(1, 1, [0, 0, 50, 48], 0.9), (1, 2, [62, 60, 30, 30], 0.4), (2, 1, [20, 20, 40, 40], 0.8),
         (3, 2, [0, 0, 60, 40], 0.7), (3, 1, [0, 0, 20, 20], 0.6), (4, 1, [5, 5, 30, 30], 0.95),
         (5, 1, [20, 20, 30, 28], 0.3)]


def _truth(images):
    """COCO ground truth over ``images`` (copies of the toy images: (new id, toy id))."""
    anns = [{"id": k + 1, "image_id": new, "category_id": c, "bbox": box, "iscrowd": 0,
             "area": box[2] * box[3]}
            for k, (new, (old, c, box)) in enumerate((n, t) for n, o in images for t in TRUTH if t[0] == o)]
    return {"images": [{"id": n, "width": 100, "height": 100} for n, _ in images], "annotations": anns,
            "categories": [{"id": 1, "name": "dog"}, {"id": 2, "name": "cat"}]}


def _results(images, found=FOUND):
    return [{"image_id": n, "category_id": c, "bbox": box, "score": s}
            for n, o in images for i, c, box, s in found if i == o]


def _evaluated(images, found=FOUND):
    return _evaluated_json(_truth(images), _results(images, found))


def _evaluated_json(truth, results):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = truth
        gt.createIndex()
        evaluation = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluation.evaluate()
    return evaluation


TOY = [(i, i) for i in range(1, 6)]


@pytest.mark.parametrize("rows", [[0, 1, 2, 3, 4], [0, 0, 2, 4, 4], [3, 3, 3, 1, 0], [2, 2, 2, 2, 2]])
def test_a_resample_scores_what_pycocotools_scores_on_its_images_as_copies(rows):
    copies = [(k + 1, TOY[r][1]) for k, r in enumerate(rows)]
    expected = coco_ap(_truth(copies), _results(copies))
    assert draw_ap(pooled(_evaluated(TOY)), rows) == (expected["ap"], expected["ap50"])


def test_the_interval_holds_the_point_ap_and_is_seeded():
    point = coco_ap(_truth(TOY), _results(TOY), resamples=50)
    assert point["ap_ci95"][0] <= point["ap"] <= point["ap_ci95"][1]
    assert point["ap50_ci95"][0] <= point["ap50"] <= point["ap50_ci95"][1]
    assert point["ap_ci95"][0] < point["ap_ci95"][1]  # five images: a wide interval, not a point
    assert bootstrap_ap(_evaluated(TOY), 50) == {k: point[k] for k in ("ap_ci95", "ap50_ci95")}


def test_a_perfect_detector_gets_one_one_one():
    perfect = [(i, c, box, 0.9) for i, c, box in TRUTH]
    result = coco_ap(_truth(TOY), _results(TOY, perfect), resamples=30)
    assert [result["ap"], *result["ap_ci95"]] == [1.0, 1.0, 1.0]
    assert [result["ap50"], *result["ap50_ci95"]] == [1.0, 1.0, 1.0]


def test_no_detections_give_a_zero_interval():
    result = coco_ap(_truth(TOY), [], resamples=10)
    assert result["ap_ci95"] == [0.0, 0.0] and np.isclose(result["ap"], 0.0)


def _rare(images=150, categories=75, seed=1):
    """Two boxes per image of random categories (so each is in about four images), half of them found, and
    eight false alarms per image: a low AP over many rarely seen names."""
    rng = np.random.default_rng(seed)
    truth, found = [], []
    for i in range(1, images + 1):
        for c in rng.choice(categories, 2, replace=False) + 1:
            box = [*map(float, rng.integers(0, 60, 2)), 30.0, 30.0]
            truth.append((i, int(c), box))
            if rng.random() < 0.5:
                found.append((i, int(c), box, float(rng.beta(2, 1))))
        for c in rng.choice(categories, 8) + 1:
            found.append((i, int(c), [*map(float, rng.integers(0, 60, 2)), 20.0, 20.0], float(rng.random())))
    gt = {"images": [{"id": i, "width": 100, "height": 100} for i in range(1, images + 1)],
          "annotations": [{"id": k + 1, "image_id": i, "category_id": c, "bbox": b, "iscrowd": 0,
                           "area": b[2] * b[3]} for k, (i, c, b) in enumerate(truth)],
          "categories": [{"id": c, "name": str(c)} for c in range(1, categories + 1)]}
    return gt, [{"image_id": i, "category_id": c, "bbox": b, "score": s} for i, c, b, s in found]


def test_over_rare_names_the_interval_holds_the_point_though_the_draws_sit_above_it():
    from steervis.stats import resampled_rows

    truth, results = _rare()
    point = coco_ap(truth, results, resamples=100)
    assert point["ap_ci95"][0] <= point["ap"] <= point["ap_ci95"][1]
    pool = pooled(_evaluated_json(truth, results))
    draws = [draw_ap(pool, rows)[0] for rows in resampled_rows(150, 100, 0)]
    assert np.percentile(draws, 2.5) > point["ap"]  # copies of rare boxes: a plain percentile would miss it
