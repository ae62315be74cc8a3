"""Any timm model as a vision tower: its last feature map (``features_only``), pooled to grid × grid tokens.

``timm:<model name>`` builds ``timm.create_model(name, pretrained=True, features_only=True)`` and reads the
last map it returns (a CNN's last stage; a ViT's last block on its patch grid). Each image is padded to a
square in the model's mean colour, resized to its input size and normalised with its mean / std (timm's data
config), with PIL and numpy only.

Every timm release imports torchvision when ``timm`` is imported (``timm.data``'s transforms; 0.4.12, 0.9.16
and 1.0.31 checked), and torchvision's PyPI wheels do not match a CPU-only torch build such as this machine's:
where it cannot import, the tower fails with one sentence saying so.

>>> from steervis.llava.tower import TowerSpec, build_tower
>>> tower = build_tower(TowerSpec("timm:resnet18.a1_in1k"))  # doctest: +SKIP
>>> tower.encode([image]).shape, tower.spec.dim  # doctest: +SKIP
(torch.Size([1, 16, 512]), 512)
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from steervis.errors import SteervisError
from steervis.llava.tower import TowerSpec, pool_grid


def import_timm() -> Any:
    """``timm``, or one sentence on why it cannot be imported here."""
    try:
        import timm
    except (ImportError, RuntimeError) as err:  # RuntimeError: a torchvision built for another torch
        if getattr(err, "name", None) == "timm":
            raise SteervisError("The timm tower needs the timm package: pip install timm.") from None
        raise SteervisError("timm needs torchvision, which cannot be imported beside this machine's torch "
                            f"({err}); use the efficientnet-lite0 or a clip:<hub id> tower "
                            "instead.") from None
    return timm


def create(name: str, pretrained: bool = True) -> torch.nn.Module:
    """A timm model returning its feature maps (``features_only``), in eval mode; unknown names:
    did-you-mean."""
    timm = import_timm()
    if not timm.is_model(name):
        close = difflib.get_close_matches(name, timm.list_models(), n=1)
        raise SteervisError(f"timm has no model {name!r}.{f' Did you mean {close[0]!r}?' if close else ''}")
    if pretrained:
        from steervis.zoo.core import hub_kwargs

        hub_kwargs()  # offline: timm's download reads the local Hugging Face cache only, and fails in seconds
    try:
        return timm.create_model(name, pretrained=pretrained, features_only=True).eval()
    # weights neither cached nor reachable; no features_only for this model
    except (OSError, RuntimeError) as err:
        raise SteervisError(f"timm model {name!r} cannot be built as a feature extractor here "
                            f"({err}).") from None


@functools.lru_cache(maxsize=8)
def feature_channels(name: str) -> int:
    """Channels of the model's last feature map (from a random-init build: no weights needed)."""
    return create(name, pretrained=False).feature_info.channels()[-1]


class TimmTower:
    """PIL images → ``[n, grid², channels]``: a timm model's last feature map, pooled; frozen, CPU."""

    layers = ("last",)
    model_help = "timm model name"
    preprocess = "pad"  # pad to square in the mean colour, resize to the model's input size, normalise
    resizable = True  # spec.size: a CNN reads any size (a timm ViT's fixed position grid may refuse it)

    def __init__(self, spec: TowerSpec, pretrained: bool = True, model: torch.nn.Module | None = None,
                 data_config: dict[str, Any] | None = None, device: str = "auto", dtype: str = "auto"):
        from steervis.device import place

        self.spec = spec
        self.model = place(model if model is not None else create(spec.model, pretrained), device,
                           dtype).eval().requires_grad_(False)
        if data_config is None:
            data_config = import_timm().data.resolve_model_data_config(self.model)
        self.size = (spec.size, spec.size) if spec.size else tuple(data_config["input_size"][1:])  # (h, w)
        self.mean = np.asarray(data_config["mean"], dtype=np.float32)
        self.std = np.asarray(data_config["std"], dtype=np.float32)

    @staticmethod
    def dim(spec: TowerSpec) -> int:
        return feature_channels(spec.model)

    def pixels(self, images: Sequence[Any]) -> torch.Tensor:
        from steervis.zoo.bundles import pad_to_square

        fill = tuple(round(255 * float(m)) for m in self.mean)
        height, width = self.size
        out = np.empty((len(images), 3, height, width), dtype=np.float32)
        for i, img in enumerate(images):
            img = pad_to_square(img.convert("RGB"), fill).resize((width, height), Image.Resampling.BICUBIC)
            out[i] = ((np.asarray(img, dtype=np.float32) / 255.0 - self.mean) / self.std).transpose(2, 0, 1)
        return torch.from_numpy(out)

    @torch.inference_mode()
    def encode(self, images: Sequence[Any], batch_size: int = 32) -> torch.Tensor:
        from steervis.device import beside

        # cached on the host, in float32
        out = [pool_grid(self.model(beside(self.pixels(images[start : start + batch_size]), self.model))[-1],
                         self.spec.grid).float().cpu()
               for start in range(0, len(images), batch_size)]
        return torch.cat(out) if out else torch.zeros((0, self.spec.tokens, self.spec.dim))
