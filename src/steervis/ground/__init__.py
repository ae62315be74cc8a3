"""Grounding: detection as phrase grounding (GLIP, "Grounded Language-Image Pre-training"), behind one
Grounder contract: ``ground(images, prompt) -> [Detections(boxes, scores, phrases)]`` per image.

* :mod:`~steervis.ground.prompts`: phrases, their token spans (the positive map), chunks of long prompts.
* :mod:`~steervis.ground.model`, :mod:`~steervis.ground.losses`, :mod:`~steervis.ground.train`: the GLIP-style
  head on a frozen CNN trunk and a frozen text encoder, its focal + L1 + GIoU losses and resumable training.
* :mod:`~steervis.ground.glip`, :mod:`~steervis.ground.baseline`, :mod:`~steervis.ground.hub`: the grounders
  (trained here, the crop baseline, OWL-ViT / OWLv2 / Grounding DINO), named in
  :data:`~steervis.ground.grounders.GROUNDERS`.
* :mod:`~steervis.ground.coco`, :mod:`~steervis.ground.run`: COCO folders in, AP by pycocotools out.
"""

from steervis.ground.contract import Detections, Grounder
from steervis.ground.grounders import GROUNDERS, open_grounder

__all__ = ["GROUNDERS", "Detections", "Grounder", "open_grounder"]
