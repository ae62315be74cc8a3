"""COCO folders in, AP by pycocotools out: toy sets whose AP is known by hand; broken files and boxes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from steervis.errors import SteervisError
from steervis.ground.coco import coco_set_ap, read_coco
from steervis.ground.contract import Detections


def _folder(tmp_path, annotations, images=2):
    data = {"images": [{"id": i + 1, "file_name": f"{i}.png", "width": 200, "height": 100}
                       for i in range(images)],
            "annotations": annotations, "categories": [{"id": 1, "name": "dog"}, {"id": 2, "name": "cat"}]}
    (tmp_path / "annotations.json").write_text(json.dumps(data))
    return tmp_path


def _ann(k, image, bbox, category=1):
    return {"id": k, "image_id": image, "category_id": category, "bbox": bbox}


def _det(*rows):
    if not rows:
        return Detections.empty()
    return Detections(np.array([r[0] for r in rows], np.float32), np.array([r[1] for r in rows], np.float32),
                      [r[2] for r in rows])


@pytest.fixture
def two_dogs(tmp_path):
    return read_coco(_folder(tmp_path, [_ann(1, 1, [0, 0, 100, 100]), _ann(2, 2, [50, 0, 100, 100])]))


def test_perfect_detections_have_ap_one(two_dogs):
    found = [_det(([0, 0, 100, 100], 0.9, "dog")), _det(([50, 0, 150, 100], 0.8, "dog"))]
    assert coco_set_ap(two_dogs, found) == pytest.approx({"ap": 1.0, "ap50": 1.0, "ap75": 1.0})


def test_finding_half_the_objects_gives_coco_s_101_point_half(two_dogs):
    # precision 1 up to recall 0.5, nothing after: 51 of COCO's 101 recall points
    result = coco_set_ap(two_dogs, [_det(([0, 0, 100, 100], 0.9, "dog")), _det()])
    assert result["ap"] == pytest.approx(51 / 101) and result["ap50"] == pytest.approx(51 / 101)


def test_a_loose_box_counts_at_low_iou_thresholds_only(tmp_path):
    coco = read_coco(_folder(tmp_path, [_ann(1, 1, [0, 0, 100, 100])], images=1))
    result = coco_set_ap(coco, [_det(([0, 0, 100, 62], 0.9, "dog"))])  # IoU 0.62: counts at .50, .55, .60
    assert result == pytest.approx({"ap": 0.3, "ap50": 1.0, "ap75": 0.0})


def test_a_wrong_phrase_or_nothing_scores_zero(two_dogs):
    assert coco_set_ap(two_dogs, [_det(([0, 0, 100, 100], 0.9, "cat")), _det()])["ap50"] == 0.0
    assert coco_set_ap(two_dogs, [_det(), _det()]) == {"ap": 0.0, "ap50": 0.0, "ap75": 0.0}


def test_the_validation_part_is_the_last_tenth(tmp_path):
    from steervis.ground.coco import select_part

    coco = read_coco(_folder(tmp_path, [], images=20))
    assert [i.id for i in select_part(coco, "val").images] == [19, 20]
    assert [i.id for i in select_part(coco, "main", limit=3).images] == [1, 2, 3]
    assert len(select_part(coco, "all").images) == 20
    with pytest.raises(SteervisError, match="part='test'"):
        select_part(coco, "test")


def test_broken_boxes_are_dropped_and_counted(tmp_path):
    anns = [_ann(1, 1, [0, 0, 50, 50]), _ann(2, 1, [0, 0, 0, 10]), _ann(3, 1, [0, 0, "x", 1]),
            _ann(4, 1, [float("nan"), 0, 5, 5]), _ann(5, 1, [300, 0, 10, 10]), _ann(6, 9, [0, 0, 5, 5]),
            _ann(7, 2, [150, 50, 100, 100], category=7), _ann(8, 2, [150, 50, 100, 100], category=2)]
    coco = read_coco(_folder(tmp_path, anns))
    assert coco.dropped == 6
    assert coco.images[0].boxes.tolist() == [[0, 0, 50, 50]]
    assert coco.images[1].boxes.tolist() == [[150, 50, 200, 100]] and coco.images[1].phrases == ["cat"]


def test_ids_that_are_lists_or_objects_are_dropped_boxes_not_a_crash(tmp_path):
    anns = [_ann(1, [1], [0, 0, 5, 5]), _ann(2, 1, [0, 0, 5, 5], category=[1]),
            _ann(3, {"id": 1}, [0, 0, 5, 5], category={"id": 1}), _ann(4, 1, [0, 0, 5, 5])]
    coco = read_coco(_folder(tmp_path, anns))
    assert coco.dropped == 3 and coco.images[0].boxes.tolist() == [[0, 0, 5, 5]]


@pytest.mark.parametrize(("text", "says"), [
    (None, "holds no annotations.json"), ("{not json", "not readable JSON"), ("[]", "is not COCO"),
    ('{"images": [], "annotations": []}', "is not COCO"),
    ('{"images": [{"id": 1}], "annotations": [], "categories": []}', "without"),
])
def test_a_file_that_is_not_coco_is_one_sentence(tmp_path, text, says):
    if text is not None:
        (tmp_path / "annotations.json").write_text(text)
    with pytest.raises(SteervisError, match=says):
        read_coco(tmp_path)


def test_the_scenes_export_reads_as_coco():
    from steervis.data.scenes import scenes_root

    root = scenes_root("test-unseen")
    if not (root / "annotations.json").exists():
        pytest.skip("the test-unseen scenes are not built")
    coco = read_coco(root, limit=5)
    assert len(coco.images) == 5 and coco.dropped == 0 and all(i.path.exists() for i in coco.images)
    assert all(len(i.boxes) == len(i.phrases) > 0 for i in coco.images)
