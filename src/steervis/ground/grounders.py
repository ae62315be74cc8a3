"""Every grounder by name: the GLIP-style model trained here, the crop baseline, the hub's detectors, and tiny
random ones for tests. A name that is a hub id (``org/name``) loads that hub detector; a name written as a
path (``./runs/glip``) loads a GLIP-style model trained here.

>>> "glip" in GROUNDERS and "owlv2" in GROUNDERS
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from steervis.registry import Registry, is_explicit_path

# The hub's default checkpoints of each family (untested with real weights here: no network).
HUB_DEFAULTS = {"owlvit": "google/owlvit-base-patch32", "owlv2": "google/owlv2-base-patch16-ensemble",
                "grounding-dino": "IDEA-Research/grounding-dino-tiny"}


def trained_dir() -> Path:
    """Where ``steervis ground train`` saves the model by default."""
    from steervis.paths import steervis_home

    return steervis_home() / "models" / "ground" / "glip"


def _by_hub_rule(name: str) -> Any:
    def build(device: str = "auto", dtype: str = "auto", settings: Any = None) -> Any:
        if is_explicit_path(name):
            from steervis.ground.glip import GlipGrounder

            return GlipGrounder.load(Path(name).expanduser(), device=device, dtype=dtype, settings=settings)
        from steervis.ground.hub import load_hub_detector

        return load_hub_detector(name, device=device, dtype=dtype, settings=settings)

    return build


GROUNDERS = Registry("grounder", hub=_by_hub_rule)


def _hub_default(family: str) -> Any:
    def build(device: str = "auto", dtype: str = "auto", settings: Any = None) -> Any:
        from steervis.ground.hub import load_hub_detector

        return load_hub_detector(HUB_DEFAULTS[family], device=device, dtype=dtype, settings=settings)

    return build


@GROUNDERS.register("glip", help="the GLIP-style model trained here (steervis ground train)",
                    folder=trained_dir)
def trained_glip(device: str = "auto", dtype: str = "auto", settings: Any = None) -> Any:
    from steervis.ground.glip import GlipGrounder

    return GlipGrounder.load(trained_dir(), device=device, dtype=dtype, settings=settings)


@GROUNDERS.register("tiny-glip", help="an untrained tiny GLIP-style model (tests)")
def tiny_glip(device: str = "auto", dtype: str = "auto", settings: Any = None) -> Any:
    from steervis.ground.glip import GlipGrounder
    from steervis.ground.model import GlipConfig

    config = GlipConfig(trunk="tiny", stride=16, size=64, text="tiny-bert", hidden=16)
    return GlipGrounder.create(config, device=device, dtype=dtype, settings=settings)


@GROUNDERS.register("crop", help="zero-shot baseline: sliding-window crops matched by ConSE")
def crop(device: str = "auto", dtype: str = "auto", settings: Any = None) -> Any:
    from steervis.ground.baseline import CropGrounder

    return CropGrounder.create("conse", device=device, dtype=dtype, settings=settings)


@GROUNDERS.register("tiny-crop", help="the crop baseline on a random tiny CLIP (tests)")
def tiny_crop(device: str = "auto", dtype: str = "auto", settings: Any = None) -> Any:
    from steervis.ground.baseline import CropGrounder

    return CropGrounder.create("tiny-clip", device=device, dtype=dtype, settings=settings)


for _family, _id in HUB_DEFAULTS.items():
    GROUNDERS.register(_family, _hub_default(_family), help=f"{_id} from the hub (untested here)")
GROUNDERS.register("tiny-owlvit", "steervis.ground.hub_tiny:tiny_owlvit", help="random tiny OWL-ViT (tests)")
GROUNDERS.register("tiny-owlv2", "steervis.ground.hub_tiny:tiny_owlv2", help="random tiny OWLv2 (tests)")
GROUNDERS.register("tiny-grounding-dino", "steervis.ground.hub_tiny:tiny_grounding_dino",
                   help="random tiny Grounding DINO (tests)")


def open_grounder(name: str = "glip", device: str = "auto", dtype: str = "auto", settings: Any = None) -> Any:
    """The grounder ``name`` stands for, on ``device`` in ``dtype``, keeping detections as ``settings``
    (:class:`~steervis.ground.glip.InferSettings`) say."""
    return GROUNDERS.get(name)(device=device, dtype=dtype, settings=settings)


def grounder_identity(name: str) -> str:
    """A grounder as keys hold it: one trained here (``glip``, a folder written as a path) by its name and the
    hash of its folder's files, so a retrained model is a new grounder; any other by its name."""
    from steervis.identity import folder_identity

    trained = GROUNDERS.meta(name).get("folder") if name in GROUNDERS else None
    folder = trained() if trained else Path(name).expanduser() if is_explicit_path(name) else None
    return folder_identity(name, folder) if folder is not None and folder.is_dir() else name
