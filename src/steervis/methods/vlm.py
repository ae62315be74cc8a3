"""Four ways to classify with a VLM, as harness methods: generate (open / closed), score, finetune (Zhang et
al., 2024, "Why are Visually-Grounded Language Models Bad at Image Classification?").

* ``vlm-generate``: VLMClassifier's open question, "What type of object is in the photo?"; the answer maps to
  the class it names (the first one named), else, with ``snap``, to the nearest class name by edit distance.
* ``vlm-generate-closed``: the question lists every class ("Choose one of: ..."); an answer naming more than
  one class is wrong: it gets a uniform row (no class preferred), and how often that happens is in
  ``diagnostics``.
* ``vlm-score``: probabilistic inference; the image and question once, every class name over the cached prefix
  (``mean``, ``sum``, or ``calibrated`` by a class prior estimated on the training images).
* ``vlm-finetuned``: a short LoRA run (adapter and projector) from the stage-2 model on classification
  instructions built from the fold's training images only, then ``vlm-score``.

The model is ``stage2`` (trained here by ``steervis vlm train``) unless ``model`` names another: ``stage1``,
a saved folder, ``tiny-vlm`` / ``tiny-llava`` (random, for tests) or a hub Llava id.

>>> from steervis.methods import method_options
>>> method_options("vlm-score", {"reduction": "calibrated"}).model
'stage2'
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis.classes import class_pattern
from steervis.device import check_placement
from steervis.errors import SteervisError
from steervis.llava.model import closed_question
from steervis.llava.train import STAGE2_LORA
from steervis.lm.config import LoraSettings, TrainSettings
from steervis.methods.base import Method, check_classes, check_labels

DEFAULT_MODEL = "stage2"
EXAMPLES_SHOWN = 12  # generated answers kept in the diagnostics, to read what the model said


def image_inputs(vlm: Any, frame: pd.DataFrame, context: Any) -> list[Any]:
    """What ``vlm``'s splicer reads for each row: cached tower tokens (steervis' LLaVA, by sha256) or
    pixels."""
    if vlm.image_processor is None:
        from steervis.llava.tower import FeatureCache

        return FeatureCache(vlm.tower).features(frame["sha256"].tolist(), frame["path"].tolist(),
                                                progress=getattr(context, "progress", False))
    images = [context.images.get(s, p) for s, p in zip(frame["sha256"], frame["path"], strict=True)]
    return vlm.visual(images)


@dataclass
class GenerateOptions:
    model: str = DEFAULT_MODEL
    question: str = "What type of object is in the photo?"  # VLMClassifier's default prompt
    snap: bool = True  # an answer naming no class → the class nearest by edit distance (else a uniform row)
    max_new_tokens: int = 16  # class names are a few tokens; longer answers are sentences about them
    batch_size: int = 8
    device: str = "auto"  # where its models run: auto, cpu, cuda, cuda:N
    dtype: str = "auto"  # their precision: auto, float32, bfloat16, float16

    def __post_init__(self) -> None:
        check_placement(self)


@dataclass
class ClosedOptions(GenerateOptions):
    format_prompt: str = "Answer the question using a single word or phrase."  # LLaVA-1.5's, seen in stage 2


class _VLMMethod(Method):
    """Shared: the model (loaded once per run through the context), image inputs, save/load of the class
    list."""

    def _vlm(self) -> Any:
        return self.context.vlm(self.model, self.device, self.dtype)

    def _inputs(self, items: pd.DataFrame) -> list[Any]:
        return image_inputs(self._vlm(), items, self.context)

    def fit(self, train: pd.DataFrame | None, classes: list[str]) -> _VLMMethod:
        self.classes = check_classes(classes)  # zero-shot: the training images are not looked at
        return self


class VLMGenerate(_VLMMethod):
    """Ask, generate greedily, map the answer to a class: a one-hot row (uniform when nothing maps)."""

    name = "vlm-generate"
    Options = GenerateOptions
    capabilities = frozenset({"diagnostics"})
    closed = False

    def _question(self) -> str:
        return self.question

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        from steervis.lm.answers import snap_to_class

        answers = self._vlm().ask(self._inputs(items), [self._question()] * len(items),
                                  max_new_tokens=self.max_new_tokens, batch_size=self.batch_size)
        k = len(self.classes)
        proba = np.full((len(items), k), 1.0 / k)
        counts = {"none": 0, "one": 0, "several": 0}
        shown = []
        for row, answer in enumerate(answers):
            named = first_named(answer, self.classes)
            counts["none" if not named else "one" if len(named) == 1 else "several"] += 1
            if len(named) > 1 and self.closed:
                choice = None  # naming several options is a wrong answer: no class is preferred
            elif named:
                choice = named[0]
            else:
                choice = snap_to_class(answer, self.classes) if self.snap else None
            if choice is not None:
                proba[row] = 0.0
                proba[row, choice] = 1.0
            if len(shown) < EXAMPLES_SHOWN:
                shown.append([answer, self.classes[choice] if choice is not None else None])
        n = max(1, len(answers))
        self._diagnostics = {"answers": len(answers), "named_none": counts["none"],
                             "named_one": counts["one"], "named_several": counts["several"],
                             "several_rate": round(counts["several"] / n, 4),
                             "none_rate": round(counts["none"] / n, 4), "examples": shown}
        return proba

    def diagnostics(self) -> dict[str, Any]:
        """How the last predicted answers mapped to classes (counts, rates, a few answers)."""
        return dict(getattr(self, "_diagnostics", {}))


class VLMGenerateClosed(VLMGenerate):
    """The options listed in the question; an answer naming several of them is wrong."""

    name = "vlm-generate-closed"
    Options = ClosedOptions
    closed = True

    def _question(self) -> str:
        return closed_question(self.classes, self.question, self.format_prompt)


def first_named(answer: str, classes: list[str]) -> list[int]:
    """Classes the answer names (:func:`steervis.classes.names_class`), in order of first mention (the longest
    mention first at the same place)."""
    found = []
    for i, c in enumerate(classes):
        match = class_pattern(c).search(answer)
        if match:
            found.append((match.start(), -(match.end() - match.start()), i))
    # "ice cream" and "ice" both match at one place: the longer name is the one meant; drop names inside it
    found.sort()
    out, covered = [], []
    for start, neg_len, i in found:
        if any(s <= start < e for s, e in covered):
            continue
        covered.append((start, start - neg_len))
        out.append(i)
    return out


@dataclass
class ScoreOptions:
    model: str = DEFAULT_MODEL
    question: str = "What type of object is in the photo?"
    # VLMClassifier's probabilistic inference: mean log-prob of the class name's tokens
    reduction: str = "mean"
    prior_images: int = 64  # training images that estimate the class prior of `calibrated` (seeded sample)
    batch_size: int = 8
    seed: int = 0
    device: str = "auto"  # where its models run: auto, cpu, cuda, cuda:N
    dtype: str = "auto"  # their precision: auto, float32, bfloat16, float16

    def __post_init__(self) -> None:
        check_placement(self)


class VLMScore(_VLMMethod):
    """Class scoring over the KV cache of image + question (the LM core's prefix-tree scoring)."""

    name = "vlm-score"
    Options = ScoreOptions
    prior: list[float] | None = None

    def fit(self, train: pd.DataFrame | None, classes: list[str]) -> VLMScore:
        from steervis.lm.config import REDUCTIONS

        self.classes = check_classes(classes)
        if self.reduction not in REDUCTIONS:
            raise SteervisError(f"reduction={self.reduction!r} must be one of: {', '.join(REDUCTIONS)}.")
        self.prior = None
        if self.reduction == "calibrated":
            self.prior = self._estimate_prior(train)
        return self

    def _estimate_prior(self, train: pd.DataFrame | None) -> list[float]:
        from steervis.lm.scoring import estimate_prior

        if train is None or not len(train):
            raise SteervisError("vlm-score with reduction=calibrated estimates its class prior on training "
                                "images; the training set is empty.")
        sample = train.sample(n=min(self.prior_images, len(train)), random_state=self.seed)
        vlm = self._vlm()
        prompts = vlm.prompts([self.question] * len(sample), image_inputs(vlm, sample, self.context))
        return estimate_prior(vlm.lm, prompts, self.classes, batch_size=self.batch_size)

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        if not self.classes:
            raise SteervisError(f"{self.name} is not fitted: call fit(train, classes) first.")
        return self._vlm().score(self._inputs(items), self.classes, question=self.question,
                                 reduction=self.reduction, prior=self.prior, batch_size=self.batch_size)

    def save(self, directory: str | Path) -> Path:
        directory = super().save(directory)
        (directory / "prior.json").write_text(json.dumps(self.prior))
        return directory

    def _load_state(self, directory: Path) -> None:
        path = directory / "prior.json"
        self.prior = json.loads(path.read_text()) if path.exists() else None


def _finetune_train() -> TrainSettings:
    # decide's LoRA rate (a short run on one short answer per image), LLaVA's 3 % warm-up, no checkpoints
    return TrainSettings(epochs=3, batch_size=8, lr=1e-3, warmup=0.03, checkpoint_every=10**9)


def _finetune_lora() -> LoraSettings:
    # stage 2's adapter shape, so a stage-2 adapter continues training as is
    return LoraSettings(r=16, alpha=32, target_modules=list(STAGE2_LORA))


@dataclass
class FinetunedOptions(ScoreOptions):
    train: TrainSettings = field(default_factory=_finetune_train)
    lora: LoraSettings = field(default_factory=_finetune_lora)


class VLMFinetuned(VLMScore):
    """From ``model`` (stage 2), LoRA + projector trained on "<image> What type of object ...?" → class name
    for the training images (the fold's training domains only), then class scoring."""

    name = "vlm-finetuned"
    Options = FinetunedOptions
    vlm: Any = None

    def _vlm(self) -> Any:
        if self.vlm is None:
            raise SteervisError("vlm-finetuned is not fitted: call fit(train, classes) first.")
        return self.vlm

    def fit(self, train: pd.DataFrame, classes: list[str]) -> VLMFinetuned:
        from steervis.llava.data import Item
        from steervis.llava.tower import FeatureCache
        from steervis.llava.train import StageSettings, train_stage
        from steervis.llava.vlms import open_vlm

        self.classes = check_classes(classes)
        check_labels(train, self.classes)
        # a fresh copy: training changes it, the run's shared one stays as is
        self.vlm = open_vlm(self.model, device=self.device, dtype=self.dtype)
        if self.vlm.config.hub:
            raise SteervisError("vlm-finetuned trains steervis' own LLaVA (stage2, a saved folder or "
                                f"tiny-vlm), not the hub Llava {self.model!r}.")
        items = [Item(sha, path, [(f"<image>\n{self.question}", label)])
                 for sha, path, label in zip(train["sha256"], train["path"], train["class"].astype(str),
                                             strict=True)]
        settings = StageSettings(stage=2, train=self.train, lora=self.lora, device=self.device,
                                 dtype=self.dtype)
        progress = getattr(self.context, "progress", False)
        train_stage(self.vlm, items, settings, features=FeatureCache(self.vlm.tower), progress=progress,
                    label="classification")
        self.prior = self._estimate_prior(train) if self.reduction == "calibrated" else None
        return self

    def save(self, directory: str | Path) -> Path:
        directory = super().save(directory)
        self._vlm().save(Path(directory) / "vlm", method=self.name, options=dataclasses.asdict(self.options),
                         classes=self.classes)
        return directory

    def _load_state(self, directory: Path) -> None:
        from steervis.llava.model import VLM

        super()._load_state(directory)
        self.vlm = VLM.load(directory / "vlm", device=self.device, dtype=self.dtype)
