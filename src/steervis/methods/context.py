"""What methods in one run share: descriptions, image features and loaded models, each computed once.

Image features are cached on disk by content (image sha256) per feature name, so a second run of the same
command, or a second method asking for the same features, costs a file read.

>>> from steervis.methods.context import MethodContext
>>> ctx = MethodContext()
>>> feats = ctx.image_features(frame, "efficientnet-lite0")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from steervis.paths import cache_dir

log = logging.getLogger(__name__)


class FeatureStore:
    """sha256 → vector for one feature name, persisted as one .npz rewritten atomically after each batch."""

    def __init__(self, path: Path):
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["values"], strict=True))

    def missing(self, keys: list[str]) -> list[str]:
        return [k for k in dict.fromkeys(keys) if k not in self.vectors]

    def add(self, keys: list[str], values: np.ndarray) -> None:
        self.vectors.update(zip(keys, values, strict=True))

    def flush(self) -> None:
        keys = sorted(self.vectors)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys), values=np.stack([self.vectors[k] for k in keys]))
        tmp.replace(self.path)  # atomic: a killed run keeps the previous complete file

    def get(self, keys: list[str]) -> np.ndarray:
        return np.stack([self.vectors[k] for k in keys])


def load_images(paths: list[str], workers: int = 4) -> list[Any]:
    """Decode images in threads (PIL releases the GIL while decoding) so the model does not wait."""
    from steervis.data import open_image

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(open_image, paths))


@dataclass
class MethodContext:
    """Shared, cached resources for the methods of one run.

    Args:
        describe_overrides: DescribeConfig values for every description in the run ({}: defaults).
        components: which description parts methods read (tags, attributes, captions).
        batch_size: images per forward pass when computing features.
    """

    describe_overrides: dict[str, Any] = field(default_factory=dict)
    components: tuple[str, ...] | None = None
    batch_size: int = 32
    progress: bool = True
    _models: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    _matchers: dict[str, Any] = field(default_factory=dict, repr=False)
    _stores: dict[str, FeatureStore] = field(default_factory=dict, repr=False)
    _descriptions: dict[str, Any] = field(default_factory=dict, repr=False)

    # ---- models -------------------------------------------------------------------------------------
    def model(self, name: str, kind: str) -> Any:
        from steervis import zoo

        if (name, kind) not in self._models:
            self._models[(name, kind)] = zoo.load(name, kind)
        return self._models[(name, kind)]

    def matcher(self, name: str) -> Any:
        from steervis.describe import build_matcher

        if name not in self._matchers:
            self._matchers[name] = build_matcher(name)
        return self._matchers[name]

    # ---- cached per-image quantities -----------------------------------------------------------------
    def _cached(self, feature: str, frame: pd.DataFrame, compute: Callable[[list[Any]], np.ndarray]) -> np.ndarray:
        if feature not in self._stores:
            safe = feature.replace("/", "--")
            self._stores[feature] = FeatureStore(cache_dir("features") / f"{safe}.npz")
        store = self._stores[feature]
        todo = frame.drop_duplicates("sha256")
        todo = todo[todo["sha256"].isin(store.missing(todo["sha256"].tolist()))]
        if len(todo):
            bar = tqdm(total=len(todo), desc=f"features {feature}", unit="img", disable=not self.progress)
            for start in range(0, len(todo), self.batch_size):
                chunk = todo.iloc[start : start + self.batch_size]
                store.add(chunk["sha256"].tolist(), compute(load_images(chunk["path"].tolist())))
                bar.update(len(chunk))
            bar.close()
            store.flush()
        return store.get(frame["sha256"].tolist())

    def image_features(self, frame: pd.DataFrame, backbone: str = "efficientnet-lite0") -> np.ndarray:
        """Pooled penultimate features of an embedded image classifier, [n, d]."""
        clf = self.model(backbone, "image-classifier")
        return self._cached(
            f"pooled-{backbone}-{clf.preprocess_id}", frame, lambda imgs: clf.forward_all(clf.preprocess(imgs))["pooled"].numpy()
        )

    def image_embeddings(self, frame: pd.DataFrame, matcher: str) -> np.ndarray:
        """L2-normalised matcher image embeddings (CLIP image tower, or ConSE), [n, d]."""
        m = self.matcher(matcher)
        feature = f"matcher-{matcher}-{getattr(m, 'version', '')}".rstrip("-")
        return self._cached(feature, frame, lambda imgs: np.asarray(m.encode_images(imgs)))

    def descriptions(self, frame: pd.DataFrame) -> list[Any]:
        """One Description per row (from the content-addressed describe store)."""
        from steervis.config import from_dict
        from steervis.describe import DescribeConfig, describe

        missing = frame[~frame["sha256"].isin(self._descriptions)].drop_duplicates("sha256")
        if len(missing):
            found = describe(missing, from_dict(DescribeConfig, self.describe_overrides), progress=self.progress)
            self._descriptions.update(zip(missing["sha256"], found, strict=True))
        return [self._descriptions[s] for s in frame["sha256"]]

    def describe_texts(self, frame: pd.DataFrame) -> list[str]:
        """Rendered description text per row; a failed description renders as an empty block."""
        return [d.render(self.components) if d is not None else "" for d in self.descriptions(frame)]
