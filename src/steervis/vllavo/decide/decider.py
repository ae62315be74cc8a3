"""The text-level core of describe-decide: rendered descriptions + class names in, probabilities out.

``Decider`` knows nothing about images or frames: it renders VLLaVO's template, tokenizes it into the LM
core's batches, finetunes (or not, for zero-shot) a LoRA adapter on (description, label) pairs, scores or
generates through :mod:`steervis.lm`, and saves/loads an adapter folder with its model card.

>>> from steervis.vllavo.decide.config import DecideConfig, TrainSettings
>>> from steervis.vllavo.decide.decider import Decider
>>> cfg = DecideConfig(model="tiny-llama", train=TrainSettings(epochs=1, batch_size=2))
>>> dec = Decider(cfg)
>>> _ = dec.fit(["Tags:\\n- fur", "Tags:\\n- wheels"], ["cat", "car"], classes=["car", "cat"], progress=False)
>>> dec.predict_proba(["Tags:\\n- fur"]).shape
(1, 2)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from steervis.card import DeciderSection, ModelCard, read_card
from steervis.classes import check_classes
from steervis.config import from_dict, to_dict
from steervis.device import names_batch_size
from steervis.errors import SteervisError
from steervis.lm.adapters import add_lora, continue_lora, load_lora, write_adapter
from steervis.lm.answers import snap_to_class
from steervis.lm.batch import Example, Prompt
from steervis.lm.generate import generate
from steervis.lm.model import LanguageModel
from steervis.lm.scoring import estimate_prior, score
from steervis.lm.train import TrainResult, train
from steervis.vllavo.decide.config import DecideConfig
from steervis.vllavo.decide.template import PromptBuilder

log = logging.getLogger(__name__)
PRIOR_EXAMPLES = 256  # training descriptions the class prior is averaged over: enough for 34 classes, cheap


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    """Order-independent hash of the training pairs, recorded in the model card."""
    digest = hashlib.sha256()
    for text, label in sorted(zip(texts, labels, strict=True)):
        digest.update(f"{label}\x00{text}\x01".encode())
    return digest.hexdigest()[:16]


def stratified_subset(labels: Sequence[str], limit: int, seed: int) -> np.ndarray:
    """At most ``limit`` indices, each class keeping its share (at least one item), seeded."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n = max(1, round(limit * len(idx) / len(labels)))
        keep.append(rng.permutation(idx)[:n])
    out = np.concatenate(keep)
    return np.sort(rng.choice(out, limit, replace=False) if len(out) > limit else out)


class Decider:
    """A causal LM (+ LoRA adapter once fit) that picks a class for each rendered description.

    Args:
        config: Model, template, LoRA, training and inference settings.
        causal_lm: An already loaded zoo ``CausalLM`` (default: load ``config.model``).
    """

    def __init__(self, config: DecideConfig, causal_lm: Any = None):
        self.config = config
        self.classes: list[str] = []
        self.card: ModelCard | None = None  # the card it was loaded from
        self.data: dict[str, Any] = {}  # what the adapter was trained on (the card's data)
        self.metrics: dict[str, Any] = {}  # how its training went (the card's metrics)
        self.prior: list[float] | None = None  # class prior for calibrated scoring, from the training texts
        self.lm = LanguageModel(causal_lm or self._load_base())
        self.builder = PromptBuilder(kind=config.template, tokenizer=self.lm.tokenizer,
                                     max_length=config.max_length, shuffle=config.shuffle_options,
                                     seed=config.train.seed)
        self.lm.add_special_tokens = self.builder.add_special_tokens

    def _load_base(self) -> Any:
        from steervis import zoo

        return zoo.load(self.config.model, kind="causal-lm", device=self.config.device,
                        dtype=self.config.dtype)

    @property
    def finetuned(self) -> bool:
        return hasattr(self.lm.model, "peft_config")

    def set_classes(self, classes: Sequence[str]) -> Decider:
        """Use ``classes`` without finetuning (zero-shot)."""
        self.classes = check_classes(classes)
        self.prior = None
        return self

    @names_batch_size("the decider's train.batch_size")
    def fit(self, texts: Sequence[str], labels: Sequence[str], classes: Sequence[str],
            progress: bool = True, checkpoint: str | Path | None = None,
            continue_steps: int | None = None, keep_checkpoint: bool = False) -> TrainResult:
        """Finetune a fresh LoRA adapter on (description, label) pairs.

        Args:
            texts: Rendered descriptions.
            labels: Class name of each description.
            classes: All class names offered as options.
            progress: Show a progress bar.
            checkpoint: Folder for a resumable training checkpoint.
            continue_steps: Keep training the current adapter for this many steps instead of fitting a fresh
                one with the full budget (self-training rounds on a small compute budget).
            keep_checkpoint: Leave the last state for the caller to remove once the adapter is saved.
        """
        classes = check_classes(classes)
        texts, labels = list(texts), [str(lab) for lab in labels]
        if len(texts) != len(labels):
            raise SteervisError(f"{len(texts)} descriptions but {len(labels)} labels.")
        if not texts:
            raise SteervisError("No training descriptions: the chosen domains hold no labelled images.")
        unknown = sorted(set(labels) - set(classes))
        if unknown:
            raise SteervisError(f"Training labels not among the classes: {', '.join(unknown[:10])}.")
        if len(set(labels)) < 2:
            log.warning("every training description has the label %r: the adapter can only learn to say it",
                        labels[0])
        self.classes = classes  # only once the input is known to be good
        full_hash = data_hash(texts, labels)
        settings = self.config.train
        if settings.max_examples is not None and len(texts) > settings.max_examples:
            keep = stratified_subset(labels, settings.max_examples, settings.seed)
            texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
        if continue_steps is not None and self.finetuned:
            continue_lora(self.lm.model)
            settings = replace(settings, max_steps=continue_steps)
        else:
            if self.finetuned:  # a second fit starts again from the base weights, not from the last adapter
                self.lm.model = self.lm.model.unload()
            self.lm.model = add_lora(self.lm.model, self.config.lora, seed=settings.seed)
        answers = {c: self.lm.encode_answer(self.builder.answer(c)) for c in self.classes}

        def examples(epoch: int) -> list[Example]:
            prompts = self.builder.build(texts, self.classes, epoch=epoch)
            return [Example.from_prompt_answer(self.lm.encode(p), answers[lab])
                    for p, lab in zip(prompts, labels, strict=True)]

        result = train(self.lm, examples, settings, progress=progress, checkpoint=checkpoint,
                       keep_checkpoint=keep_checkpoint)
        self.prior = None
        if self.config.reduction == "calibrated":
            sample = stratified_subset(labels, min(PRIOR_EXAMPLES, len(texts)), settings.seed)
            self.prior = estimate_prior(self.lm, self._prompts([texts[i] for i in sample]),
                                        self._answers(), batch_size=self.config.score_batch)
        self.data, self.metrics = {"data_hash": full_hash, "n_train": len(texts)}, result.summary()
        log.info("finetuned on %d descriptions: %s", len(texts), result.summary())
        return result

    def _prompts(self, texts: Sequence[str]) -> list[Prompt]:
        if not self.classes:
            raise SteervisError("No classes yet: call fit(...) or set_classes(...) before predicting.")
        return [Prompt(self.lm.encode(p)) for p in self.builder.build(list(texts), self.classes)]

    def _answers(self) -> list[str]:
        return [self.builder.answer(c) for c in self.classes]

    @names_batch_size("the decider's score_batch")
    def predict_proba(self, texts: Sequence[str], mode: str | None = None) -> np.ndarray:
        """``[n, k]`` probabilities; in ``generate`` mode a one-hot row on the snapped answer."""
        mode = mode or self.config.inference
        if mode == "generate":
            _, idx = self.generate(texts)
            probs = np.zeros((len(idx), len(self.classes)), dtype=np.float32)
            probs[np.arange(len(idx)), idx] = 1.0
            return probs
        return score(self.lm, self._prompts(texts), self._answers(), reduction=self.config.reduction,
                     prior=self.prior, batch_size=self.config.score_batch)

    def generate(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Beam-search answers and the class index each one snaps to."""
        raw = generate(self.lm, self._prompts(texts), beams=self.config.beams,
                       max_new_tokens=self.config.max_new_tokens, batch_size=self.config.score_batch)
        return raw, np.array([snap_to_class(a, self.classes) for a in raw], dtype=int)

    def model_card(self, method: str = "", describe: dict[str, Any] | None = None,
                   selftrain_rounds: Sequence[dict[str, Any]] = (), data: dict[str, Any] | None = None
                   ) -> ModelCard:
        """This decider's card: base model, config, classes, prior, training data (plus ``data``), metrics,
        and what its descriptions were made by (``describe``, ``method``, ``selftrain_rounds``)."""
        if not self.classes:
            raise SteervisError("Nothing to save: the decider has no classes yet.")
        section = DeciderSection(classes=list(self.classes), finetuned=self.finetuned,
                                 template=self.config.template, prior=self.prior, method=method,
                                 describe=describe, selftrain_rounds=list(selftrain_rounds))
        return ModelCard(kind="decider", base=self.config.model, config=to_dict(self.config),
                         data={**self.data, **(data or {})}, metrics=dict(self.metrics), decider=section)

    def save(self, directory: str | Path, texts: dict[str, str] | None = None, **card: Any) -> Path:
        """Write adapter + model card (:meth:`model_card` with ``card``) and ``texts`` (file name → text), all
        in one swap."""
        return write_adapter(directory, self.lm.model if self.finetuned else None, self.model_card(**card),
                             texts=texts, kind="adapter")

    @classmethod
    def load(cls, directory: str | Path, **overrides: Any) -> Decider:
        """Rebuild a decider from a saved folder; ``overrides`` replace top-level config fields (e.g.
        ``inference="generate"``)."""
        card = read_card(directory, kind="decider")
        # where it trained is not where it runs: the saved device is never reused
        saved = {k: v for k, v in card.config.items() if k != "device"}
        config = from_dict(DecideConfig, {**saved, **overrides})
        dec = cls(config)
        if card.decider.finetuned:
            dec.lm.model = load_lora(dec.lm.model, directory)
        dec.set_classes(card.decider.classes)
        dec.prior = card.decider.prior
        if config.reduction == "calibrated" and dec.prior is None:
            raise SteervisError(f"{directory} was saved without a class prior, so reduction='calibrated' "
                                "cannot be used with it: refit with reduction=calibrated.")
        dec.card, dec.data, dec.metrics = card, dict(card.data), dict(card.metrics)
        return dec
