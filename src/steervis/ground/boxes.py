"""Box arithmetic in plain torch: IoU, generalised IoU and non-maximum suppression on ``xyxy`` boxes.

torchvision has these (``ops.box_iou``, ``generalized_box_iou``, ``batched_nms``), but its PyPI wheels do not
match a CPU-only torch build such as this machine's (it fails to import), so the few lines are written here
and checked against hand-computed numbers in the tests.

>>> import torch
>>> a = torch.tensor([[0., 0., 2., 2.]]); b = torch.tensor([[1., 1., 3., 3.]])
>>> round(float(box_iou(a, b)), 4), round(float(generalized_box_iou(a, b)), 4)
(0.1429, -0.0794)
"""

from __future__ import annotations

import torch


def cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def xywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """COCO's ``[x, y, width, height]`` → ``[x0, y0, x1, y1]``."""
    x, y, w, h = boxes.unbind(-1)
    return torch.stack([x, y, x + w, y + h], dim=-1)


def xyxy_to_xywh(boxes: torch.Tensor) -> torch.Tensor:
    x0, y0, x1, y1 = boxes.unbind(-1)
    return torch.stack([x0, y0, x1 - x0, y1 - y0], dim=-1)


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    return (boxes[..., 2] - boxes[..., 0]).clamp(min=0) * (boxes[..., 3] - boxes[..., 1]).clamp(min=0)


def _inter_union(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairwise ``[n, m]`` intersection and union areas."""
    top_left = torch.max(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(-1)
    return inter, box_area(a)[:, None] + box_area(b)[None, :] - inter


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``[n, m]`` IoU of every box of ``a`` with every box of ``b`` (0 where both are empty)."""
    inter, union = _inter_union(a, b)
    return inter / union.clamp(min=1e-9)


def generalized_box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``[n, m]`` generalised IoU (Rezatofighi et al. 2019): IoU minus the share of the enclosing box that
    neither covers; in [-1, 1], and it still has a gradient when the boxes do not overlap."""
    inter, union = _inter_union(a, b)
    iou = inter / union.clamp(min=1e-9)
    top_left = torch.min(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.max(a[:, None, 2:], b[None, :, 2:])
    enclosing = (bottom_right - top_left).clamp(min=0).prod(-1)
    return iou - (enclosing - union) / enclosing.clamp(min=1e-9)


def paired_giou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``[n]`` generalised IoU of ``a[i]`` with ``b[i]`` (the loss' pairs), without the ``[n, n]`` matrix."""
    top_left, bottom_right = torch.max(a[:, :2], b[:, :2]), torch.min(a[:, 2:], b[:, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(-1)
    union = box_area(a) + box_area(b) - inter
    outer = (torch.max(a[:, 2:], b[:, 2:]) - torch.min(a[:, :2], b[:, :2])).clamp(min=0).prod(-1)
    return inter / union.clamp(min=1e-9) - (outer - union) / outer.clamp(min=1e-9)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou: float = 0.5) -> torch.Tensor:
    """Indices of the boxes kept by greedy non-maximum suppression, highest score first: a box is dropped
    when it overlaps a kept, higher-scored one by more than ``iou``."""
    order = scores.argsort(descending=True)
    if order.numel() == 0:
        return order
    overlaps = box_iou(boxes[order], boxes[order])
    keep = torch.ones(order.numel(), dtype=torch.bool)
    for i in range(order.numel()):
        if keep[i]:
            later = torch.arange(order.numel()) > i
            keep &= ~(later & (overlaps[i] > iou))
    return order[keep]


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor,
                iou: float = 0.5) -> torch.Tensor:
    """NMS within each label only (boxes of different phrases never suppress each other), highest score
    first."""
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.long)
    # shift each label's boxes apart so no two labels overlap: one NMS pass does every label
    shift = labels.to(boxes.dtype)[:, None] * (boxes.max() - boxes.min() + 1)
    return nms(boxes + shift, scores, iou)
