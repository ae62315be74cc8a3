"""Image and text features of a set of images (the pool, a dataset), computed once into append-only stores.

For each image, one efficientnet-lite0 pass gives both what REACT's base matcher sees (the ConSE embedding,
384-d, in minilm's sentence space) and what its gated head reads (the pooled 1280-d features). Texts are
embedded by the matcher's (locked) text tower. Each is a :class:`~steervis.store.Store` of float32 rows keyed
by content (image sha256, text hash), so a pool that grows is never recomputed; each batch is a part of its
own, merged once a run is done.

>>> from steervis.matchers.features import text_key
>>> text_key("a dog")
'7dbdf68ac0bb3482a281e267'
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from steervis.paths import cache_dir
from steervis.store import Store

BATCH = 32  # images per efficientnet-lite0 pass: ~1 s on two cores, a progress tick a second


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass
class ImageFeatures:
    """Per image: the base matcher's embedding and the backbone's pooled features."""

    base: np.ndarray  # [n, 384] unit-norm ConSE embeddings
    pooled: np.ndarray  # [n, 1280] efficientnet-lite0 pooled features


def _decode(paths: Sequence[str]) -> list[Any]:
    from steervis.data import open_image

    with ThreadPoolExecutor(4) as pool:  # PIL releases the GIL while decoding
        return list(pool.map(open_image, paths))


def in_matcher_precision(name: str, config: dict[str, Any], matcher: Any) -> tuple[str, dict[str, Any]]:
    """A matcher cache's name and config for the precision its matcher computes in
    (:func:`~steervis.device.in_precision_named`; any precision but float32 is recorded in the config too)."""
    from steervis.device import in_precision_named

    precision = getattr(matcher, "precision", "float32")
    recorded = config if precision == "float32" else {**config, "precision": precision}
    return in_precision_named(name, precision), recorded


def image_features(matcher: Any, paths: Sequence[str], keys: Sequence[str],
                   progress: bool = True) -> ImageFeatures:
    """ConSE embeddings and pooled features of images, computed once per image content (``keys``: sha256)."""
    import torch
    from tqdm.auto import tqdm

    dim = matcher.class_embeddings.shape[1]
    name, config = in_matcher_precision(f"react-base-{matcher.version}", {
        "features": "ConSE embedding, then pooled backbone features", "matcher": matcher.version}, matcher)
    store = Store.for_artifact(cache_dir("features"), name, "image-features", config=config)
    missing = set(store.missing(keys))
    first = {k: i for i, k in reversed(list(enumerate(keys)))}  # one row per distinct image
    todo = sorted(first[k] for k in missing)
    bar = tqdm(total=len(todo), desc="image features", unit="img", disable=not progress or not todo)
    for start in range(0, len(todo), BATCH):
        chunk = todo[start : start + BATCH]
        pixels = matcher.preprocess(_decode([paths[i] for i in chunk]))
        with torch.inference_mode():
            out = matcher.classifier.forward_all(pixels)
        base = matcher.embed_logits(out["logits"])
        store.put_vectors([keys[i] for i in chunk], np.concatenate([base, out["pooled"].numpy()], axis=1))
        bar.update(len(chunk))
    bar.close()
    store.compact()
    both = store.vectors(list(keys))
    return ImageFeatures(base=both[:, :dim], pooled=both[:, dim:])


def text_features(matcher: Any, texts: Sequence[str], progress: bool = True) -> np.ndarray:
    """The locked text tower's unit-norm embeddings of ``texts``, computed once per distinct text."""
    from tqdm.auto import tqdm

    name = getattr(matcher, "text_name", matcher.name)  # a locked text tower shared by several matchers
    store_name, config = in_matcher_precision(f"text-{name}", {"features": "text embeddings",
                                                               "text tower": name}, matcher)
    store = Store.for_artifact(cache_dir("features"), store_name, "text-embeddings", config=config)
    keys = [text_key(t) for t in texts]
    missing = set(store.missing(keys))
    todo = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k in missing))
    bar = tqdm(total=len(todo), desc="text features", unit="text", disable=not progress or not todo)
    for start in range(0, len(todo), 256):
        chunk = todo[start : start + 256]
        store.put_vectors([text_key(t) for t in chunk], matcher.encode_texts(chunk))
        bar.update(len(chunk))
    bar.close()
    store.compact()
    return store.vectors(keys)


def image_embeddings(matcher: Any, paths: Sequence[str], keys: Sequence[str],
                     progress: bool = True) -> np.ndarray:
    """The matcher's unit-norm image embeddings, computed once per image content.

    ConSE-style matchers (one backbone pass gives logits and pooled features) use :func:`image_features`;
    any other matcher (a CLIP) is encoded in batches into its own store.
    """
    if hasattr(matcher, "embed_logits"):
        return image_features(matcher, paths, keys, progress).base
    # a head over ConSE (react-pool): its base's cached features, headed
    if hasattr(matcher, "embed_features"):
        feats = image_features(matcher.base, paths, keys, progress)
        return matcher.embed_features(feats.base, feats.pooled)
    from tqdm.auto import tqdm

    if not getattr(matcher, "disk_cache", True):  # random test models: never cached
        return np.concatenate([matcher.encode_images(_decode(paths[i : i + BATCH]))
                               for i in range(0, len(paths), BATCH)]).astype(np.float32)
    name = getattr(matcher, "version", matcher.name).replace("/", "--")
    store_name, config = in_matcher_precision(f"images-{name}", {"features": "image embeddings",
                                                                 "matcher": name}, matcher)
    store = Store.for_artifact(cache_dir("features"), store_name, "image-features", config=config)
    first = {k: i for i, k in reversed(list(enumerate(keys)))}
    todo = sorted(first[k] for k in store.missing(keys))
    for start in tqdm(range(0, len(todo), BATCH), desc="image embeddings", disable=not progress or not todo):
        chunk = todo[start : start + BATCH]
        store.put_vectors([keys[i] for i in chunk], matcher.encode_images(_decode([paths[i] for i in chunk])))
    store.compact()
    return store.vectors(list(keys))
