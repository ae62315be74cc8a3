"""The describer's typed config; only the fields that change a description enter its cache key.

>>> from steervis.vllavo.describe.config import DescribeConfig
>>> cfg = DescribeConfig(batch_size=8)
>>> cfg.matcher, cfg.captioner
('conse', None)
>>> cfg.cache_key() == DescribeConfig(batch_size=64, num_workers=1).cache_key()  # speed knobs do not count
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from steervis.device import check_placement, precision_identity
from steervis.errors import SteervisError
from steervis.identity import artifact_record, stamped
from steervis.matchers.prompts import CLASS_PROMPTS
from steervis.paths import cache_dir

ENGINES = ("local", "ray")
# Fields that only change how fast or where a description is made, never what it says.
RUNTIME_FIELDS = ("batch_size", "num_workers", "engine", "ray_actors", "store", "device")


VOCAB_TAGGERS = ("vocab", "imagenet+vocab")  # taggers that read the tag vocabulary


@dataclass
class DescribeConfig:
    """How images become descriptions.

    Attributes:
        matcher: Image-text matcher: ``conse`` (embedded, offline), ``react-pool`` (customized on the whole
            pool), ``react`` (customized for the task's class names; resolved to its folder where the task is
            known), the folder of a customized matcher, ``tiny-clip`` or a CLIP hub id.
        tagger: ``vocab`` (top-k of the tag vocabulary by the matcher), ``imagenet`` (the embedded
            classifier's own ImageNet top-k labels) or ``imagenet+vocab`` (both, ImageNet labels first).
        tag_vocab: ``tags`` (shipped) or a path to a text file, one tag per line.
        attribute_vocab: ``attributes`` (shipped) or a path; empty string for no attributes.
        tag_top_k: Tags kept per image.
        class_tags: How many of the task's class names, ranked by the matcher, lead the tags (0: none).
            LENS's setting for classification: the tag vocabulary is the label set, so the decider reads the
            matcher's own ranking of the classes beside the open-vocabulary words.
        classes: The task's class names for ``class_tags`` (filled from the data by ``evaluate``, ``fit`` and
            ``describe`` when empty); they are part of the cache key only when ``class_tags`` is set.
        class_prompts: How class names are embedded to rank them (``steervis.matchers.prompts``): ``template``
            (``prompt_template`` alone) or ``styles`` (the mean over zero-shot's 8 style templates, so the
            first class tag is the zero-shot answer of the same matcher).
        tag_threshold: Keep a tag only if its score ≥ this × the best tag's score (relative, so it means the
            same for matchers whose similarity scales differ).
        imagenet_threshold: Relative threshold for ImageNet labels (probabilities are peaked, so it is lower).
        attribute_top_k: Attributes kept per image.
        attribute_threshold: Relative threshold for attributes, like ``tag_threshold``.
        prompt_template: Wraps each vocabulary entry before text encoding (``"a photo of a {}"`` suits CLIP).
        pool_captions: Captions retrieved from the knowledge pool
            (``steervis.vllavo.describe.pool_captions``): the texts of the image's nearest pool images by the
            matcher's image embedding, nearest first, distinct (0: none). They come after the captioner's own
            captions.
        pool_caption_style: Keep the pool text's style words ("an emoji of a goat"); ``False`` strips them
            ("a goat"), so a caption says what is shown, not how it is drawn (a domain cue the decider cannot
            use across styles).
        captioner: ``None`` (offline default: no captions), ``llava`` (steervis' LLaVA, once trained here),
            ``tiny-blip`` / ``tiny-llava`` (tests) or an image-to-text hub id.
        caption_prompt: Text the captioner continues (VLLaVO / BLIP: "a picture of").
        beams: Beam width of the one deterministic caption (0 for none).
        samples: Nucleus-sampled captions per image (VLLaVO: 10).
        max_caption_tokens: Length limit of each caption.
        seed: Seed for sampled captions.
        batch_size: Images per model call.
        num_workers: Threads decoding and preprocessing images ahead of the model.
        engine: ``local`` or ``ray`` (Ray Data ``map_batches`` over an actor pool).
        ray_actors: Actors in the Ray pool.
        store: Description store folder (default ``$STEERVIS_HOME/descriptions``).
        device: Where the matcher and captioner run (``auto``, ``cpu``, ``cuda``, ``cuda:N``).
        dtype: Their weights' precision (``auto``, ``float32``, ``bfloat16``, ``float16``).
    """

    matcher: str = "conse"
    # Both taggers: offline, the classifier's own labels ("airliner") carry most of what it saw, while
    # ConSE's vocabulary tags add words outside ImageNet's 1000 classes.
    tagger: str = "imagenet+vocab"
    tag_vocab: str = "tags"
    attribute_vocab: str = "attributes"
    tag_top_k: int = 5  # VLLaVO keeps the top 5 tags
    class_tags: int = 0  # off by default: a description then depends on the image alone, never on the task
    classes: list[str] = field(default_factory=list)
    class_prompts: str = "template"  # "styles" ranks class tags as zero-shot matches (8-template ensemble)
    tag_threshold: float = 0.8  # relative: drops tags far below the best one, keeps near-ties
    imagenet_threshold: float = 0.1  # keep ImageNet labels within 10x of the top probability
    attribute_top_k: int = 5
    attribute_threshold: float = 0.8
    prompt_template: str = "{}"  # minilm embeds bare nouns well; CLIP prefers "a photo of a {}"
    pool_captions: int = 0  # off by default: needs a built pool (`steervis data build pool`)
    pool_caption_style: bool = True  # the pool texts as written (the captions the reported describers read)
    captioner: str | None = None
    caption_prompt: str = "a picture of"
    beams: int = 1
    samples: int = 10
    max_caption_tokens: int = 30
    seed: int = 0
    batch_size: int = 32  # fills both cores with efficientnet-lite0; larger batches do not speed up CPU
    num_workers: int = 2  # decoding is ~10x cheaper than the forward pass: two threads keep the model fed
    engine: str = "local"
    ray_actors: int = 2
    store: str | None = None
    device: str = "auto"  # auto: a CUDA card when there is one, else the CPU
    dtype: str = "auto"  # auto: bfloat16 on a card that supports it, float32 on the CPU

    def __post_init__(self) -> None:
        check_placement(self)
        if self.engine not in ENGINES:
            raise SteervisError(f"engine must be one of {ENGINES}, not {self.engine!r}.")
        if self.batch_size < 1 or self.num_workers < 1:
            raise SteervisError("batch_size and num_workers must be at least 1.")
        if self.pool_captions < 0:
            raise SteervisError("pool_captions must be 0 (off) or a positive count, not "
                                f"{self.pool_captions}.")
        if self.class_tags < 0:
            raise SteervisError(f"class_tags must be 0 (off) or a positive count, not {self.class_tags}.")
        CLASS_PROMPTS.get(self.class_prompts)  # an unknown name is a did-you-mean error
        if "{}" not in self.prompt_template:
            raise SteervisError(f"prompt_template {self.prompt_template!r} must contain '{{}}'.")

    def for_task(self, classes: list[str]) -> DescribeConfig:
        """This config with the task's ``classes`` filled in where ``class_tags`` needs them and none are
        set."""
        if self.class_tags and not self.classes:
            return replace(self, classes=sorted(str(c) for c in classes))
        return self

    def store_dir(self) -> Path:
        return Path(self.store).expanduser() if self.store else cache_dir("descriptions")

    def content_fields(self) -> dict[str, Any]:
        """The fields that decide what a description says, with vocabularies by content hash."""
        from steervis.matchers import matcher_identity
        from steervis.vllavo.describe.captioners import CAPTIONERS
        from steervis.vllavo.describe.vocab import vocabulary_hash

        data = {k: v for k, v in asdict(self).items() if k not in RUNTIME_FIELDS}
        data["dtype"] = precision_identity(self.device, self.dtype)
        identity = matcher_identity(self.matcher)
        if identity != self.matcher:  # a matcher trained here (react-pool): its weights are part of the key
            data["matcher_identity"] = identity
            if identity.startswith("customized-"):  # a folder: where it is stored never changes a description
                data["matcher"] = "customized"
        data["tag_vocab"] = vocabulary_hash(self.tag_vocab) if self.tagger in VOCAB_TAGGERS else None
        data["attribute_vocab"] = vocabulary_hash(self.attribute_vocab) if self.attribute_vocab else None
        captioner_identity = CAPTIONERS.identity(self.captioner)
        if captioner_identity:
            data["captioner_identity"] = captioner_identity  # trained here: by weights
        if self.class_tags:
            data["classes"] = sorted(data["classes"])  # a set of names: their order changes no description
        else:  # no class tags: the task's classes and their prompts never reach a description
            data.pop("classes")
            data.pop("class_prompts")
        if self.pool_captions:  # a rebuilt pool lends other texts: a new describer
            from steervis.data.pool import Pool

            data["pool_hash"] = Pool.manifest_hash()
        else:  # no pool captions: their style never reaches a description
            data.pop("pool_caption_style")
        if not self.captioner:
            for key in ("caption_prompt", "beams", "samples", "max_caption_tokens", "seed"):
                data.pop(key)
        return data

    def cache_key(self) -> str:
        """The describer's identity: half of every store key (the other half is the image sha256)."""
        return self.identity_record()["key"]

    def identity_record(self) -> dict[str, Any]:
        """What :meth:`cache_key` stands for (content fields and code versions), kept beside the store."""
        return stamped(artifact_record("description", config=self.content_fields()))
