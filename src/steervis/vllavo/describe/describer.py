"""The describer: matcher + tagger + attribute scorer + captioner, applied to batches of images.

Work is split so that :meth:`Describer.prepare` (decode-side, per image, thread-safe) runs in worker threads
while :meth:`Describer.describe_prepared` (model-side, per batch) keeps the cores busy.

>>> from steervis.vllavo.describe.config import DescribeConfig
>>> from steervis.vllavo.describe.describer import Describer
>>> d = Describer(DescribeConfig())  # doctest: +SKIP
>>> print(d.describe_images([img])[0].render())  # doctest: +SKIP
Tags:
- golden retriever
...
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from PIL import Image

from steervis import __version__
from steervis.errors import SteervisError
from steervis.matchers import build_matcher
from steervis.matchers.prompts import CLASS_PROMPTS, class_embeddings
from steervis.matchers.text_cache import cached_text_embeddings
from steervis.registry import Registry
from steervis.vllavo.describe.config import VOCAB_TAGGERS, DescribeConfig
from steervis.vllavo.describe.description import Description
from steervis.vllavo.describe.vocab import load_vocabulary

TAGGERS = Registry("tagger")
TAGGERS.register("vocab", "steervis.vllavo.describe.describer:vocab_tags",
                 help="top-k of the tag vocabulary by the matcher")
TAGGERS.register("imagenet", "steervis.vllavo.describe.describer:imagenet_tags",
                 help="the embedded classifier's own ImageNet top-k labels (matcher conse)")
TAGGERS.register("imagenet+vocab", "steervis.vllavo.describe.describer:imagenet_and_vocab_tags",
                 help="ImageNet top-k labels (matcher conse), then vocabulary tags")


def top_relative(scores: np.ndarray, names: list[str], k: int,
                 threshold: float) -> list[list[tuple[str, float]]]:
    """Per row, the top ``k`` names whose score is at least ``threshold`` × the row's best score."""
    k = min(k, scores.shape[1])
    if k <= 0:
        return [[] for _ in range(scores.shape[0])]
    idx = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    out = []
    for row, cand in zip(scores, idx, strict=True):
        cand = cand[np.argsort(-row[cand], kind="stable")]
        best = row[cand[0]]
        floor = threshold * best if best > 0 else -np.inf
        out.append([(names[j], round(float(row[j]), 4)) for j in cand if row[j] >= floor])
    return out


def vocab_tags(describer: Describer, emb: np.ndarray,
               probs: np.ndarray | None) -> list[list[tuple[str, float]]]:
    cfg = describer.config
    return top_relative(emb @ describer.tag_embeddings.T, describer.tags, cfg.tag_top_k, cfg.tag_threshold)


def imagenet_tags(describer: Describer, emb: np.ndarray,
                  probs: np.ndarray | None) -> list[list[tuple[str, float]]]:
    if probs is None:
        raise SteervisError("tagger 'imagenet' needs the embedded classifier: use it with matcher 'conse'.")
    cfg = describer.config
    names = describer.matcher.classifier.class_names
    return top_relative(probs, names, cfg.tag_top_k, cfg.imagenet_threshold)


def imagenet_and_vocab_tags(describer: Describer, emb: np.ndarray, probs: np.ndarray | None):
    """ImageNet labels first (when the matcher has a classifier, i.e. ConSE), then vocabulary tags not named
    yet."""
    if probs is None:  # a CLIP matcher: vocabulary tags only, as in VLLaVO
        return vocab_tags(describer, emb, probs)
    return lead_with(imagenet_tags(describer, emb, probs), vocab_tags(describer, emb, probs))


def lead_with(first: list[list[tuple[str, float]]],
              rest: list[list[tuple[str, float]]]) -> list[list[tuple[str, float]]]:
    """Per image, the ``first`` tags, then the ``rest`` that do not repeat one of them (case-insensitive)."""
    out = []
    for lead, more in zip(first, rest, strict=True):
        seen = {name.lower() for name, _ in lead}
        out.append(lead + [(n, s) for n, s in more if n.lower() not in seen])
    return out


def with_class_tags(describer: Describer, emb: np.ndarray,
                    tags: list[list[tuple[str, float]]]) -> list[list[tuple[str, float]]]:
    """The matcher's top ``class_tags`` class names first (always that many: their order is the signal), then
    the tagger's tags that do not repeat one."""
    ranked = top_relative(emb @ describer.class_embeddings.T, describer.class_names,
                          describer.config.class_tags, threshold=-np.inf)
    return lead_with(ranked, tags)


class Describer:
    """Everything that turns a batch of images into :class:`Description` objects for one config."""

    def __init__(self, config: DescribeConfig | None = None):
        self.config = cfg = config or DescribeConfig()
        self.tagger = TAGGERS.get(cfg.tagger)
        self.matcher = build_matcher(cfg.matcher, cfg.device, cfg.dtype)
        self.tags = load_vocabulary(cfg.tag_vocab) if cfg.tagger in VOCAB_TAGGERS else []
        self.attributes = load_vocabulary(cfg.attribute_vocab) if cfg.attribute_vocab else []
        self.tag_embeddings = self._embed(self.tags)
        self.attribute_embeddings = self._embed(self.attributes)
        if cfg.class_tags and not cfg.classes:
            raise SteervisError("class_tags needs the task's class names: set describe.classes (evaluate, "
                                "fit and describe --data fill them from the data).")
        # Folder names are identifiers ("hot_air_balloon"); the matcher reads them as words.
        self.class_names = [c.replace("_", " ") for c in cfg.classes] if cfg.class_tags else []
        templates = CLASS_PROMPTS.get(cfg.class_prompts)  # () names the describer's own prompt_template
        self.class_embeddings = (class_embeddings(self.class_names, templates, self._encode)
                                 if templates and self.class_names else self._embed(self.class_names))
        self.captioner = None
        if cfg.captioner:
            from steervis.vllavo.describe.captioners import build_captioner

            self.captioner = build_captioner(cfg.captioner, cfg.caption_prompt, cfg.max_caption_tokens,
                                             cfg.seed, device=cfg.device, dtype=cfg.dtype)
        self.neighbours = None
        if cfg.pool_captions:
            from steervis.vllavo.describe.pool_captions import PoolNeighbours

            self.neighbours = PoolNeighbours(self.matcher, keep_style=cfg.pool_caption_style)
        self.provenance = {
            "steervis": __version__, "config_hash": cfg.cache_key(), **self.matcher.provenance,
            "tagger": cfg.tagger, "captioner": cfg.captioner or "none (no captioner configured: tags and "
            "attributes only)",
        }
        if self.neighbours is not None:
            self.provenance["pool_captions"] = {"k": cfg.pool_captions, "pool_hash": self.neighbours.hash,
                                                "style_words": cfg.pool_caption_style}

    def _embed(self, entries: list[str]) -> np.ndarray:
        texts = [self.config.prompt_template.format(e) for e in entries]
        return self._encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return cached_text_embeddings(self.matcher, texts)

    def prepare(self, image: Image.Image) -> dict[str, Any]:
        """Per-image model inputs (thread-safe; runs in the decoding workers)."""
        out = {"matcher": self.matcher.preprocess([image])}
        if self.captioner is not None:
            out["captioner"] = self.captioner.preprocess([image])
        return out

    def describe_prepared(self, items: list[dict[str, Any]]) -> list[Description]:
        """Describe a batch of :meth:`prepare` outputs, one model call per component."""
        import torch

        if not items:
            return []
        pixels = torch.cat([it["matcher"] for it in items])
        probs = None
        # declared by the matcher (ConSE: ImageNet probabilities)
        if getattr(self.matcher, "class_probs", False):
            emb, probs = self.matcher.encode_pixels(pixels, return_probs=True)
        else:
            emb = self.matcher.encode_pixels(pixels)
        tags = self.tagger(self, emb, probs)
        if self.class_names:
            tags = with_class_tags(self, emb, tags)
        attrs = (top_relative(emb @ self.attribute_embeddings.T, self.attributes, self.config.attribute_top_k,
                              self.config.attribute_threshold) if self.attributes else [[] for _ in items])
        captions: list[list[str]] = [[] for _ in items]
        if self.captioner is not None:
            cap_pixels = torch.cat([it["captioner"] for it in items])
            captions = self.captioner.caption_pixels(cap_pixels, self.config.beams, self.config.samples)
        if self.neighbours is not None:
            captions = [own + lent for own, lent in
                        zip(captions, self.neighbours.captions(emb, self.config.pool_captions), strict=True)]
        return [
            Description(tags=t, attributes=a, captions=c, provenance=dict(self.provenance))
            for t, a, c in zip(tags, attrs, captions, strict=True)
        ]

    def describe_images(self, images: list[Image.Image]) -> list[Description]:
        """Describe PIL images directly (no store, no threads)."""
        out: list[Description] = []
        for start in range(0, len(images), self.config.batch_size):
            chunk = images[start : start + self.config.batch_size]
            out += self.describe_prepared([self.prepare(img) for img in chunk])
        return out


@functools.lru_cache(maxsize=2)
def _cached_describer(key: str, config_json: str) -> Describer:
    import json

    from steervis.config import from_dict

    return Describer(from_dict(DescribeConfig, json.loads(config_json)))


def get_describer(config: DescribeConfig) -> Describer:
    """A describer for ``config``, reused within the process (loading models costs seconds)."""
    import json
    from dataclasses import asdict

    return _cached_describer(config.cache_key(), json.dumps(asdict(config), sort_keys=True))
