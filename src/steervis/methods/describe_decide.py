"""describe-decide (VLLaVO) and zero-shot LLM as ``Classifier``s over image frames.

Both read each row's rendered description through a ``texts`` callable (rows → strings; the harness builds it
from the describe store) and hand the strings to :class:`steervis.vllavo.decide.decider.Decider`.
``DescribeDecide`` finetunes a LoRA adapter on the training rows; ``ZeroShotLLM`` asks the base model as is
(VLLaVO's ablation).

Registered in ``steervis.methods``; built by name with
``build_method("describe-decide", context, {"inference": "generate", "train": {"epochs": 3}})``, where
``context.describe_texts`` is the texts callable and every other key is a ``DecideConfig`` field (the options
dataclass ``DescribeDecideOptions`` is derived from ``DecideConfig``, so the two never disagree; its defaults
are the ``decide-quick`` budget, and a nested section given in part keeps the rest of that budget).

>>> import pandas as pd
>>> from steervis.methods.describe_decide import DescribeDecide
>>> from steervis.vllavo.decide.config import DecideConfig, TrainSettings
>>> frame = pd.DataFrame({"text": ["Tags:\\n- fur", "Tags:\\n- wheels"], "class": ["cat", "car"]})
>>> clf = DescribeDecide(lambda f: list(f["text"]), DecideConfig(model="tiny-llama",
...                      train=TrainSettings(epochs=1, batch_size=2)), progress=False)
>>> clf.fit(frame, ["car", "cat"]).predict_proba(frame).shape
(2, 2)
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from collections.abc import Callable
from dataclasses import field, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis.config import load_config, to_dict
from steervis.errors import SteervisError
from steervis.methods.base import check_classes, check_labels
from steervis.vllavo.decide.config import DecideConfig

TextsFn = Callable[[pd.DataFrame], list[str]]
DEFAULT_PRESET = "decide-quick"
ALL_COMPONENTS = ["tags", "attributes", "captions"]



def _options_class() -> type:
    """``DescribeDecideOptions``: every ``DecideConfig`` field but ``components`` (the run's), defaulting to
    the ``decide-quick`` budget, plus extra inference modes reported on the same adapter and progress bars."""
    quick = load_config(DecideConfig, preset=DEFAULT_PRESET)  # the budget that fits two CPU cores
    hints, own = typing.get_type_hints(DecideConfig), []
    for f in dataclasses.fields(DecideConfig):
        if f.name == "components":
            continue
        value = getattr(quick, f.name)
        own.append((f.name, hints[f.name], field(default_factory=lambda v=value: copy.deepcopy(v))))
    return dataclasses.make_dataclass("DescribeDecideOptions", [
        *own,
        ("also", list[str], field(default_factory=list)),
        ("progress", bool | None, field(default=None)),
    ], namespace={"__module__": __name__})


# options of describe-decide / zeroshot-llm: a DecideConfig (its fields, the decide-quick budget by default)
DescribeDecideOptions = _options_class()


def decide_settings(options: Any, components: list[str]) -> DecideConfig:
    """The ``DecideConfig`` a run's options stand for, reading ``components``."""
    names = [f.name for f in dataclasses.fields(DecideConfig) if f.name != "components"]
    return DecideConfig(components=list(components), **{n: copy.deepcopy(getattr(options, n)) for n in names})


def decide_config(preset: str | None = DEFAULT_PRESET, overrides: list[str] | tuple[str, ...] = (),
                  **fields: Any) -> DecideConfig:
    """A ``DecideConfig`` from a preset, nested field values (``train={"epochs": 1}``) and ``key=value``
    strings."""
    return load_config(DecideConfig, preset=preset, base=fields, overrides=list(overrides))


class _DescriptionLLM:
    """Shared plumbing: rows → descriptions → :class:`~steervis.vllavo.decide.decider.Decider`."""

    name = "description-llm"
    Options = DescribeDecideOptions
    capabilities = frozenset({"variants"})

    def __init__(self, texts: TextsFn, config: DecideConfig | None = None,
                 describe_config: Any = None, progress: bool = True, also: list[str] | tuple[str, ...] = (),
                 checkpoint: str | Path | None = None):
        self.texts = texts
        self.checkpoint = checkpoint  # resumable training state, kept until the adapter is saved
        self.config = config or decide_config()
        self.describe_config = describe_config or {}
        self.progress = progress
        self.also = _check_modes(also, self.config.inference)
        self.classes: list[str] = []
        self.decider: Any = None
        self.history: list[dict[str, Any]] = []  # self-training round logs after adapt()

    def _texts(self, frame: pd.DataFrame) -> list[str]:
        texts = list(self.texts(frame))
        if len(texts) != len(frame):
            raise SteervisError(f"The description source gave {len(texts)} texts for {len(frame)} rows.")
        return texts

    def _ensure_decider(self) -> Any:
        if self.decider is None:
            from steervis.vllavo.decide.decider import Decider

            self.decider = Decider(self.config)
        return self.decider

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        if self.decider is None or not self.classes:
            raise SteervisError(f"{self.name} is not fitted: call fit(train, classes) first.")
        return self.decider.predict_proba(self._texts(items))

    def variants(self) -> dict[str, Callable[[pd.DataFrame], np.ndarray]]:
        """Extra inference modes on the same fitted model (``also=["generate"]``), for side-by-side
        reports."""
        return {mode: (lambda items, mode=mode: self.decider.predict_proba(self._texts(items), mode=mode))
                for mode in self.also}

    def model_card(self, data: dict[str, Any] | None = None) -> Any:
        """The fitted decider's model card, with what made its descriptions; ``data`` adds to its data facts
        (e.g. the training domains)."""
        return self._fitted().model_card(**self._card_facts(data))

    def save(self, directory: str | Path, texts: dict[str, str] | None = None,
             data: dict[str, Any] | None = None) -> None:
        """Write the adapter and :meth:`model_card`; ``texts`` files beside it (e.g. the resolved config)."""
        self._fitted().save(directory, texts=texts, **self._card_facts(data))

    def _fitted(self) -> Any:
        if self.decider is None:
            raise SteervisError(f"{self.name} is not fitted: nothing to save.")
        return self.decider

    def _card_facts(self, data: dict[str, Any] | None) -> dict[str, Any]:
        describe = self.describe_config
        return {"method": self.name, "selftrain_rounds": self.history, "data": data,
                "describe": to_dict(describe) if is_dataclass(describe) else dict(describe)}

    @classmethod
    def create(cls, context: Any, options: Any) -> Any:
        """Built from a run's context: its ``describe_texts`` are the descriptions, its ``components`` the
        parts."""
        texts = getattr(context, "describe_texts", None)
        if texts is None:
            raise SteervisError(f"{cls.name} needs descriptions: the method context has no describe_texts.")
        progress = options.progress if options.progress is not None else getattr(context, "progress", True)
        # One source: the run's `components` render every description; the card records what was read.
        config = decide_settings(options, getattr(context, "components", None) or ALL_COMPONENTS)
        describe = getattr(context, "describe", None)
        return cls(texts, config, describe, progress=progress, also=options.also)

    @classmethod
    def load(cls, directory: str | Path, context: Any = None, texts: TextsFn | None = None,
             **overrides: Any) -> Any:
        """Load a saved folder; ``texts`` (or ``context.describe_texts``) is needed to predict on frames.
        ``overrides``: DecideConfig fields."""
        from steervis.vllavo.decide.decider import Decider

        texts = texts or getattr(context, "describe_texts", None)
        decider = Decider.load(directory, **overrides)
        obj = cls(texts or _no_texts, decider.config, decider.card.decider.describe, progress=False)
        obj.decider, obj.classes = decider, decider.classes
        return obj


class DescribeDecide(_DescriptionLLM):
    """Finetune an LM with LoRA on (description, label) pairs; predict by exact class scoring or generation.

    Args:
        texts: Rows → their rendered descriptions, in row order.
        config: The decide settings (default: the ``decide-quick`` preset).
        describe_config: The describer's config, recorded in the model card.
        progress: Show training progress bars.
    """

    name = "describe-decide"
    capabilities = frozenset({"adapt", "variants"})

    def fit(self, train: pd.DataFrame, classes: list[str]) -> DescribeDecide:
        classes = check_classes(classes)
        check_labels(train, classes)
        texts, labels = self._texts(train), list(train["class"].astype(str))
        self._ensure_decider().fit(texts, labels, classes, progress=self.progress, checkpoint=self.checkpoint,
                                   keep_checkpoint=self.checkpoint is not None)
        self.classes, self._source = classes, (texts, labels)
        return self

    def adapt(self, target: pd.DataFrame, rounds: int | None = None,
              labels: list[str] | None = None) -> list[dict[str, Any]]:
        """UDA after :meth:`fit`: self-train on the unlabelled ``target`` rows (``config.selftrain``).

        Args:
            target: Target-domain rows; their ``class`` column, if any, is not read.
            rounds: Self-training rounds (default ``config.selftrain.rounds``).
            labels: Target labels, only to log accuracy per round; never used to select pseudo-labels.

        Returns:
            One dict per round (round, pseudo, pseudo_accuracy, target_accuracy); round 0 is the source model.
        """
        from dataclasses import asdict, replace

        from steervis.vllavo.decide.selftrain import self_train

        if self.decider is None or not self.classes:
            raise SteervisError("describe-decide.adapt needs fit(source, classes) first.")
        src_texts, src_labels = self._source
        tgt_texts = self._texts(target)
        index = {c: i for i, c in enumerate(self.classes)}
        truth = np.array([index[c] for c in labels]) if labels and all(c in index for c in labels) else None
        settings = self.config.selftrain if rounds is None else replace(self.config.selftrain, rounds=rounds)

        def refit(keep: np.ndarray, pseudo: np.ndarray) -> None:
            self.decider.fit(src_texts + [tgt_texts[i] for i in keep],
                             src_labels + [self.classes[p] for p in pseudo], self.classes,
                             progress=self.progress, continue_steps=settings.refit_steps)

        # Selection needs confidences, so rounds always score, whatever config.inference says.
        logs = self_train(refit, lambda: self.decider.predict_proba(tgt_texts, mode="score"), settings, truth)
        self.history = [asdict(r) for r in logs]
        return self.history


class ZeroShotLLM(_DescriptionLLM):
    """The base LM, no finetuning, over the same descriptions and template (VLLaVO's zero-shot ablation)."""

    name = "zeroshot-llm"

    def fit(self, train: pd.DataFrame, classes: list[str]) -> ZeroShotLLM:
        classes = check_classes(classes)
        if "class" in train and len(train):
            check_labels(train, classes)
        self._ensure_decider().set_classes(classes)
        self.classes = classes
        return self


def _check_modes(also: str | list[str] | tuple[str, ...], main: str) -> tuple[str, ...]:
    from steervis.vllavo.decide.config import INFERENCE_MODES

    also = [also] if isinstance(also, str) else list(also)  # `also: generate` in YAML is a plain string
    bad = [m for m in also if m not in INFERENCE_MODES]
    if bad:
        raise SteervisError(f"Unknown inference mode(s) {bad} in also=: choose from {list(INFERENCE_MODES)}.")
    return tuple(m for m in dict.fromkeys(also) if m != main)


def _no_texts(frame: pd.DataFrame) -> list[str]:
    raise SteervisError("This classifier was loaded without a description source; pass texts= to load().")
