"""ConSE (Norouzi et al., ICLR 2014, "Zero-shot learning by convex combination of semantic embeddings"): the
embedded offline matcher. efficientnet-lite0's top-T ImageNet probabilities weight the minilm-l6 embeddings of
those class names, placing the image in the sentence-embedding space where any tag, attribute or class prompt
is embedded too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from steervis.matchers.text_cache import cached_text_embeddings, normalise

# Norouzi et al. found T=10 best on ImageNet-21k: fewer loses the mixing, more adds mass of irrelevant
# classes.
CONSE_TOP_T = 10


def imagenet_class_texts() -> list[str]:
    """"name: WordNet gloss" per ImageNet-1k class ("dingo: wolflike yellowish-brown wild dog of Australia").

    The gloss says what a rare name is: on minidomains photos (71 images, 31 class prompts) ConSE zero-shot
    went from 56 % with bare names to 59 % with name + gloss.
    """
    from steervis.packages import imagenet_synsets, synset_table
    from steervis.zoo.embedded import imagenet_class_names

    glosses = synset_table("definition")
    return [f"{name}: {glosses[s].strip()}" for name, s in zip(imagenet_class_names(), imagenet_synsets(),
                                                                 strict=True)]


class ConSEMatcher:
    """ConSE over efficientnet-lite0 (ImageNet-1k) and minilm-l6 (sentence embeddings), both embedded."""

    # encode_pixels(..., return_probs=True) also gives ImageNet probabilities (imagenet tagger)
    class_probs = True
    disk_cache = True  # long vocabularies' text embeddings are kept on disk (see cached_text_embeddings)
    text_name = "conse"  # the text tower (minilm-l6) whatever the image backbone: text caches are shared

    def __init__(self, top_t: int = CONSE_TOP_T, image: str = "efficientnet-lite0", device: str = "auto",
                 dtype: str = "auto"):
        from steervis import zoo
        from steervis.device import precision_identity

        self.top_t, self.image = top_t, image
        self.precision = precision_identity(device, dtype)  # keys its cached embeddings beside its version
        self.name = ("conse" if image == "efficientnet-lite0"
                     else f"conse-{image.removeprefix('efficientnet-')}")
        self.classifier = zoo.load(image, kind="image-classifier", device=device, dtype=dtype)
        self.text_encoder = zoo.load("minilm-l6", kind="text-encoder", device=device, dtype=dtype)
        self.class_embeddings = cached_text_embeddings(self, imagenet_class_texts())  # [1000, 384]
        self.provenance = {"matcher": self.name, "top_t": top_t, "image": image, "text": "minilm-l6",
                           "preprocess": self.classifier.preprocess_id}
        # Names cached image embeddings; lite0's keeps its original form so existing caches stay valid.
        backbone = "" if image == "efficientnet-lite0" else f"{image}-"
        self.version = f"t{top_t}-{backbone}{self.classifier.preprocess_id}"

    def for_inference(self) -> ConSEMatcher:
        """This matcher over a folded copy of its image classifier (:meth:`ImageClassifier.for_inference`),
        the text encoder shared: for a caller that only encodes many images (the crop grounder's windows)."""
        import copy

        fast = copy.copy(self)
        fast.classifier = self.classifier.for_inference()
        return fast

    def preprocess(self, images: list[Image.Image]) -> Any:
        return self.classifier.preprocess(images)

    def encode_pixels(self, pixels: Any, return_probs: bool = False) -> Any:
        """Preprocessed pixels → ConSE embeddings [n, 384] (and the ImageNet probabilities [n, 1000])."""
        logits = self.classifier.forward_all(pixels)["logits"]
        return self.embed_logits(logits, return_probs)

    def embed_logits(self, logits: Any, return_probs: bool = False) -> Any:
        """ImageNet logits [n, 1000] → ConSE embeddings (REACT's head reuses the same backbone pass)."""
        import torch

        probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        top = np.argpartition(-probs, self.top_t - 1, axis=1)[:, : self.top_t]
        weights = np.take_along_axis(probs, top, axis=1)
        weights = weights / weights.sum(axis=1, keepdims=True)  # the convex combination's 1/Z
        emb = normalise(np.einsum("nt,ntd->nd", weights, self.class_embeddings[top]))
        return (emb, probs) if return_probs else emb

    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        return self.encode_pixels(self.preprocess(images))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Unit-norm minilm-l6 embeddings; memoised per text by the encoder."""
        return normalise(self.text_encoder.encode(list(texts)))


class ConSELite2(ConSEMatcher):
    """ConSE over efficientnet-lite2 (260 px), the optional larger backbone."""

    def __init__(self, top_t: int = CONSE_TOP_T, device: str = "auto", dtype: str = "auto"):
        super().__init__(top_t=top_t, image="efficientnet-lite2", device=device, dtype=dtype)
