"""IoU, generalised IoU and NMS in torch, against numbers worked out by hand."""

from __future__ import annotations

import torch

from steervis.ground.boxes import batched_nms, box_iou, generalized_box_iou, nms, paired_giou


def test_iou_and_giou_of_two_offset_squares():
    a, b = torch.tensor([[0.0, 0.0, 2.0, 2.0]]), torch.tensor([[1.0, 1.0, 3.0, 3.0]])
    # overlap 1, union 7; the enclosing 3×3 box leaves 2 uncovered: GIoU = 1/7 - 2/9
    assert torch.isclose(box_iou(a, b), torch.tensor(1 / 7)).all()
    assert torch.isclose(generalized_box_iou(a, b), torch.tensor(1 / 7 - 2 / 9)).all()
    assert torch.isclose(paired_giou(a, b), torch.tensor([1 / 7 - 2 / 9])).all()


def test_giou_of_far_apart_boxes_is_negative_and_of_equal_boxes_one():
    a = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    b = torch.tensor([[3.0, 0.0, 4.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    # 0 overlap; the enclosing box 4×1 has 2 of its 4 uncovered: -0.5
    assert torch.allclose(paired_giou(a, b), torch.tensor([-0.5, 1.0]))
    assert torch.allclose(generalized_box_iou(a, b).diagonal(), torch.tensor([-0.5, 1.0]))


def test_giou_has_a_gradient_when_boxes_do_not_overlap():
    a = torch.tensor([[0.0, 0.0, 1.0, 1.0]], requires_grad=True)
    (1 - paired_giou(a, torch.tensor([[3.0, 0.0, 4.0, 1.0]]))).sum().backward()
    assert a.grad.abs().sum() > 0


def test_nms_drops_the_weaker_of_two_overlapping_boxes():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [20.0, 20.0, 30.0, 30.0]])
    scores = torch.tensor([0.8, 0.9, 0.5])
    assert nms(boxes, scores, iou=0.5).tolist() == [1, 2]  # IoU(0, 1) = 81/119 = 0.68
    assert nms(boxes, scores, iou=0.7).tolist() == [1, 0, 2]


def test_boxes_of_different_phrases_never_suppress_each_other():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]])
    kept = batched_nms(boxes, torch.tensor([0.9, 0.8, 0.7]), torch.tensor([0, 1, 0]))
    assert kept.tolist() == [0, 1]
    assert batched_nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.long)).numel() == 0
