"""What methods in one run share: descriptions, image features and loaded models, each computed once.

Image features are cached on disk by content (image sha256) per feature name, so a second run of the same
command, or a second method asking for the same features, costs a file read. Decoded images come from the
run's :class:`~steervis.data.decoded.DecodedImages`, shared with the folder check and the describer.

>>> from steervis.methods.context import MethodContext
>>> ctx = MethodContext()
>>> feats = ctx.image_features(frame, "efficientnet-lite0")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from steervis.data.decoded import DecodedImages
from steervis.paths import cache_dir
from steervis.store import Store

log = logging.getLogger(__name__)


def in_precision(feature: str, device: str = "auto", dtype: str = "auto") -> str:
    """A cached feature's name for the precision ``device`` and ``dtype`` compute in
    (:func:`~steervis.device.in_precision_named`).

    >>> in_precision("pooled-x", "cpu", "auto"), in_precision("pooled-x", "cpu", "bfloat16")
    ('pooled-x', 'pooled-x-bfloat16')
    """
    from steervis.device import in_precision_named, precision_identity

    return in_precision_named(feature, precision_identity(device, dtype))


@dataclass
class MethodContext:
    """Shared, cached resources for the methods of one run.

    Args:
        describe: the ``DescribeConfig`` of every description in the run (None: defaults), or its values.
        components: which description parts methods read (tags, attributes, captions; None: all).
        batch_size: images per forward pass when computing features.
        images: the run's decoded images, shared with the folder check and the describer.
    """

    describe: Any = None
    components: tuple[str, ...] | None = None
    batch_size: int = 32
    progress: bool = True
    images: DecodedImages = field(default_factory=DecodedImages, repr=False)
    _models: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)
    _matchers: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)
    _stores: dict[str, Store] = field(default_factory=dict, repr=False)
    _descriptions: dict[str, Any] = field(default_factory=dict, repr=False)
    _vlms: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        from steervis.config import from_dict
        from steervis.vllavo.describe.config import DescribeConfig

        if not isinstance(self.describe, DescribeConfig):
            self.describe = from_dict(DescribeConfig, self.describe or {}, where="describe.")

    def derive(self, describe: Any, components: tuple[str, ...] | None = None) -> MethodContext:
        """A context for another describer (a ``DescribeConfig``) or other description parts, sharing models,
        features and images. Itself when nothing differs; otherwise a sibling with its own descriptions."""
        if describe.cache_key() == self.describe.cache_key() and components == self.components:
            return self
        return dataclasses.replace(self, describe=describe, components=components, _descriptions={})

    # ---- models -------------------------------------------------------------------------------------
    def model(self, name: str, kind: str, device: str = "auto", dtype: str = "auto") -> Any:
        """A zoo model, loaded once per run and placement (:mod:`steervis.device` spellings)."""
        from steervis import zoo

        key = (name, kind, device, dtype)
        if key not in self._models:
            self._models[key] = zoo.load(name, kind, device=device, dtype=dtype)
        return self._models[key]

    def matcher(self, name: str, device: str = "auto", dtype: str = "auto") -> Any:
        from steervis.matchers import build_matcher

        key = (name, device, dtype)
        if key not in self._matchers:
            self._matchers[key] = build_matcher(name, device, dtype)
        return self._matchers[key]

    def vlm(self, name: str, device: str = "auto", dtype: str = "auto") -> Any:
        """A vision-language model by name (``steervis.llava.vlms.open_vlm``), loaded once per run and
        placement."""
        from steervis.llava.vlms import open_vlm

        key = (name, device, dtype)
        if key not in self._vlms:
            self._vlms[key] = open_vlm(name, device=device, dtype=dtype)
        return self._vlms[key]

    # ---- cached per-image quantities -----------------------------------------------------------------
    def _cached(self, feature: str, frame: pd.DataFrame,
                compute: Callable[[list[Any]], np.ndarray]) -> np.ndarray:
        if feature not in self._stores:
            safe = feature.replace("/", "--")
            self._stores[feature] = Store.for_artifact(cache_dir("features"), safe, "image-features",
                                                       config={"features": feature})
        store = self._stores[feature]
        todo = frame.drop_duplicates("sha256")
        todo = todo[todo["sha256"].isin(store.missing(todo["sha256"].tolist()))]
        if len(todo):
            bar = tqdm(total=len(todo), desc=f"features {feature}", unit="img", disable=not self.progress)
            for start in range(0, len(todo), self.batch_size):
                chunk = todo.iloc[start : start + self.batch_size]
                store.put_vectors(chunk["sha256"].tolist(), compute(self._images(chunk)))
                bar.update(len(chunk))
            bar.close()
            store.compact()
        return store.vectors(frame["sha256"].tolist())

    def _images(self, chunk: pd.DataFrame, workers: int = 4) -> list[Any]:
        """Decoded images of ``chunk`` from the run's cache; misses decode in threads (PIL releases the
        GIL)."""
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(self.images.get, chunk["sha256"].tolist(), chunk["path"].tolist()))

    def image_features(self, frame: pd.DataFrame, backbone: str = "efficientnet-lite0", device: str = "auto",
                       dtype: str = "auto") -> np.ndarray:
        """Pooled penultimate features of an embedded image classifier, [n, d]."""
        clf = self.model(backbone, "image-classifier", device, dtype)
        return self._cached(
            in_precision(f"pooled-{backbone}-{clf.preprocess_id}", device, dtype), frame,
            lambda imgs: clf.forward_all(clf.preprocess(imgs))["pooled"].float().cpu().numpy()
        )

    def grid_features(self, frame: pd.DataFrame, backbone: str = "efficientnet-lite0", grid: int = 4,
                      device: str = "auto", dtype: str = "auto") -> np.ndarray:
        """The LLaVA vision tower's ``grid × grid`` tokens of its default layer, flattened, [n, grid² · c]:
        where each part of the image is, which the pooled vector averages away."""
        from steervis.llava.tower import TowerSpec, build_tower

        spec = TowerSpec(backbone, grid=grid)
        key = (f"tower-{spec.id}", "tower", device, dtype)
        if key not in self._models:
            self._models[key] = build_tower(spec, device=device, dtype=dtype)
        tower = self._models[key]
        return self._cached(in_precision(f"tower-{spec.id}", device, dtype), frame,
                            lambda imgs: tower.encode(imgs).flatten(1).float().cpu().numpy())

    def image_embeddings(self, frame: pd.DataFrame, matcher: str, device: str = "auto",
                         dtype: str = "auto") -> np.ndarray:
        """L2-normalised matcher image embeddings (CLIP image tower, or ConSE), [n, d]."""
        m = self.matcher(matcher, device, dtype)
        feature = in_precision(f"matcher-{matcher}-{getattr(m, 'version', '')}".rstrip("-"), device, dtype)
        return self._cached(feature, frame, lambda imgs: np.asarray(m.encode_images(imgs)))

    def descriptions(self, frame: pd.DataFrame) -> list[Any]:
        """One Description per row (from the content-addressed describe store)."""
        from steervis.vllavo.describe import describe

        missing = frame[~frame["sha256"].isin(self._descriptions)].drop_duplicates("sha256")
        if len(missing):
            found = describe(missing, self.describe, progress=self.progress, images=self.images)
            self._descriptions.update(zip(missing["sha256"], found, strict=True))
        return [self._descriptions[s] for s in frame["sha256"]]

    def has_descriptions(self) -> bool:
        """Whether any method of the run has read descriptions (the report then shows them)."""
        return bool(self._descriptions)

    def describe_texts(self, frame: pd.DataFrame) -> list[str]:
        """Rendered description text per row; a failed description renders as an empty block."""
        return [d.render(self.components) if d is not None else "" for d in self.descriptions(frame)]
