"""GLIP's training signal on one image: which locations answer for which object, a sigmoid focal loss on the
location × token alignment against the positive map, and L1 + GIoU on the boxes of the answering locations.

Assignment is FCOS' (anchor-free): a location answers for an object when its centre lies inside the box and
within ``radius`` cells of the box's centre (the smallest such box wins), and each object keeps at least the
location nearest its centre, so a box smaller than a cell is never left without one.

>>> import torch
>>> owner = assign(torch.tensor([[0.0, 0.0, 0.5, 0.5]]), cells=2)
>>> owner.tolist()  # the top-left cell of a 2×2 grid answers for the top-left box
[0, -1, -1, -1]
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from steervis.ground.boxes import paired_giou
from steervis.ground.model import cell_centres


@dataclass
class LossWeights:
    """How the three terms add up (DETR's and GLIP's box weights)."""

    focal: float = 1.0
    l1: float = 5.0  # DETR's L1 weight on unit-square coordinates
    giou: float = 2.0  # DETR's GIoU weight
    alpha: float = 0.25  # focal loss' weight on positives (RetinaNet)
    gamma: float = 2.0  # focal loss' focusing exponent (RetinaNet)
    radius: float = 1.5  # FCOS' centre sampling, in cells


def assign(boxes: torch.Tensor, cells: int, radius: float = 1.5) -> torch.Tensor:
    """``[cells²]`` index of the object each location answers for, ``-1`` for background.

    Args:
        boxes: ``[n, 4]`` unit-square xyxy boxes of the image's objects.
    """
    centres = cell_centres(cells)
    if boxes.numel() == 0:
        return torch.full((cells * cells,), -1, dtype=torch.long)
    x, y = centres[:, 0:1], centres[:, 1:2]
    inside = (x > boxes[:, 0]) & (x < boxes[:, 2]) & (y > boxes[:, 1]) & (y < boxes[:, 3])
    box_centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    near = ((x - box_centre[:, 0]).abs() <= radius / cells) & ((y - box_centre[:, 1]).abs() <= radius / cells)
    candidate = inside & near
    nearest = torch.cdist(box_centre, centres).argmin(dim=1)
    candidate[nearest, torch.arange(len(boxes))] = True
    area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).expand_as(candidate)
    area = torch.where(candidate, area, torch.full_like(area, float("inf")))
    best = area.argmin(dim=1)
    return torch.where(candidate.any(dim=1), best, torch.full_like(best, -1))


def focal_loss(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, alpha: float = 0.25,
               gamma: float = 2.0) -> torch.Tensor:
    """Summed sigmoid focal loss (Lin et al. 2017) over the entries where ``mask`` is true."""
    prob = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = prob * target + (1 - prob) * (1 - target)
    weight = alpha * target + (1 - alpha) * (1 - target)
    return (weight * (1 - p_t) ** gamma * ce * mask).sum()


def image_loss(boxes: torch.Tensor, logits: torch.Tensor, token_mask: torch.Tensor, positive: torch.Tensor,
               gt_boxes: torch.Tensor, gt_phrases: torch.Tensor,
               weights: LossWeights) -> dict[str, torch.Tensor]:
    """The three loss terms of one image, each a sum (the caller divides by the batch's positives).

    Args:
        boxes: ``[hw, 4]`` predicted unit-square boxes; logits: ``[hw, t]`` alignment logits.
        token_mask: ``[t]`` real tokens; positive: ``[phrases, t]`` the prompt's positive map.
        gt_boxes: ``[n, 4]`` the objects' unit-square boxes; gt_phrases: ``[n]`` each one's phrase index.
    """
    cells = int(round(boxes.shape[0] ** 0.5))
    owner = assign(gt_boxes, cells, weights.radius)
    hit = owner >= 0
    target = torch.zeros_like(logits)
    if hit.any():
        target[hit] = (positive[gt_phrases[owner[hit]]] > 0).to(logits.dtype)
    mask = token_mask.to(logits.dtype).expand_as(logits)
    focal = focal_loss(logits, target, mask, weights.alpha, weights.gamma)
    if not hit.any():
        zero = boxes.sum() * 0
        return {"focal": focal, "l1": zero, "giou": zero, "positives": torch.tensor(0.0)}
    pred, true = boxes[hit].float(), gt_boxes[owner[hit]].float()
    return {"focal": focal, "l1": (pred - true).abs().sum(), "giou": (1 - paired_giou(pred, true)).sum(),
            "positives": hit.sum().float()}


def total(parts: list[dict[str, torch.Tensor]],
          weights: LossWeights) -> tuple[torch.Tensor, dict[str, float]]:
    """The batch's loss: each term summed over images, divided by the batch's answering locations (at least
    one), weighted; and the terms as numbers for the log."""
    positives = torch.stack([p["positives"] for p in parts]).sum().clamp(min=1)
    terms = {k: torch.stack([p[k] for p in parts]).sum() / positives for k in ("focal", "l1", "giou")}
    loss = weights.focal * terms["focal"] + weights.l1 * terms["l1"] / 4 + weights.giou * terms["giou"]
    return loss, {k: float(v.detach()) for k, v in terms.items()}
