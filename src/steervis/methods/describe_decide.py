"""describe-decide (VLLaVO) and zero-shot LLM as ``Classifier``s over image frames.

Both read each row's rendered description through a ``texts`` callable (rows → strings; the harness builds it
from the describe store) and hand the strings to :class:`steervis.decide.decider.Decider`. ``DescribeDecide``
finetunes a LoRA adapter on the training rows; ``ZeroShotLLM`` asks the base model as is (VLLaVO's ablation).

Built by name: ``METHODS.build("describe-decide", context, preset="decide-quick", inference="generate")``,
where ``context.describe_texts`` is the texts callable; every other keyword is a ``DecideConfig`` field.

>>> import pandas as pd
>>> from steervis.methods.describe_decide import DescribeDecide
>>> from steervis.decide.config import DecideConfig, TrainSettings
>>> frame = pd.DataFrame({"text": ["Tags:\\n- fur", "Tags:\\n- wheels"], "class": ["cat", "car"]})
>>> clf = DescribeDecide(lambda f: list(f["text"]), DecideConfig(model="tiny-llama",
...                      train=TrainSettings(epochs=1, batch_size=2)), progress=False)
>>> clf.fit(frame, ["car", "cat"]).predict_proba(frame).shape
(2, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steervis.config import load_config
from steervis.decide.config import DecideConfig
from steervis.errors import SteervisError
from steervis.methods.base import METHODS, check_classes, check_labels

TextsFn = Callable[[pd.DataFrame], list[str]]
DEFAULT_PRESET = "decide-quick"


def decide_config(preset: str | None = DEFAULT_PRESET, overrides: list[str] | tuple[str, ...] = (),
                  **fields: Any) -> DecideConfig:
    """A ``DecideConfig`` from a preset, nested field values (``train={"epochs": 1}``) and ``key=value`` strings."""
    return load_config(DecideConfig, preset=preset, base=fields, overrides=list(overrides))


class DescribeDecide:
    """Finetune an LM with LoRA on (description, label) pairs; predict by exact class scoring or generation.

    Args:
        texts: Rows → their rendered descriptions, in row order.
        config: The decide settings (default: the ``decide-quick`` preset).
        describe_config: The describer's config, recorded in the model card.
        progress: Show training progress bars.
    """

    name = "describe-decide"

    def __init__(self, texts: TextsFn, config: DecideConfig | None = None,
                 describe_config: dict[str, Any] | None = None, progress: bool = True):
        self.texts = texts
        self.config = config or decide_config()
        self.describe_config = describe_config or {}
        self.progress = progress
        self.classes: list[str] = []
        self.decider: Any = None
        self.history: list[Any] = []  # self-training round logs after adapt()

    def _texts(self, frame: pd.DataFrame) -> list[str]:
        texts = list(self.texts(frame))
        if len(texts) != len(frame):
            raise SteervisError(f"The description source gave {len(texts)} texts for {len(frame)} rows.")
        return texts

    def _ensure_decider(self) -> Any:
        if self.decider is None:
            from steervis.decide.decider import Decider

            self.decider = Decider(self.config)
        return self.decider

    def fit(self, train: pd.DataFrame, classes: list[str]) -> DescribeDecide:
        self.classes = check_classes(classes)
        check_labels(train, self.classes)
        self._ensure_decider().fit(self._texts(train), list(train["class"].astype(str)), self.classes,
                                   progress=self.progress)
        return self

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        if self.decider is None or not self.classes:
            raise SteervisError(f"{self.name} is not fitted: call fit(train, classes) first.")
        return self.decider.predict_proba(self._texts(items))

    def adapt(self, source: pd.DataFrame, classes: list[str], target: pd.DataFrame) -> list[Any]:
        """UDA: fit on ``source``, then self-train on the unlabelled ``target`` (``config.selftrain``).

        Target labels, if ``target`` has a ``class`` column, are only logged per round (``self.history``).
        """
        from steervis.decide.selftrain import self_train

        self.fit(source, classes)
        src_texts, src_labels = self._texts(source), list(source["class"].astype(str))
        tgt_texts = self._texts(target)
        truth = None
        if "class" in target and target["class"].isin(self.classes).all():
            truth = target["class"].map({c: i for i, c in enumerate(self.classes)}).to_numpy()

        def refit(keep: np.ndarray, pseudo: np.ndarray) -> None:
            self.decider.fit(src_texts + [tgt_texts[i] for i in keep],
                             src_labels + [self.classes[p] for p in pseudo], self.classes, progress=self.progress)

        # Selection needs confidences, so rounds always score, whatever config.inference says.
        self.history = self_train(refit, lambda: self.decider.predict_proba(tgt_texts, mode="score"),
                                  self.config.selftrain, truth)
        return self.history

    def save(self, directory: str | Path, **card: Any) -> None:
        """Write the adapter and model card; ``card`` adds entries to the card (e.g. the training domains)."""
        if self.decider is None:
            raise SteervisError(f"{self.name} is not fitted: nothing to save.")
        rounds = [vars(r) for r in self.history]
        self.decider.save(directory, method=self.name, describe=self.describe_config, selftrain_rounds=rounds,
                          **card)

    @classmethod
    def load(cls, directory: str | Path, texts: TextsFn | None = None, **overrides: Any) -> DescribeDecide:
        """Load a saved adapter folder; ``texts`` is needed to predict on frames (not on raw texts)."""
        from steervis.decide.decider import Decider

        decider = Decider.load(directory, **overrides)
        obj = cls(texts or _no_texts, decider.config, decider.card.get("describe"), progress=False)
        obj.decider, obj.classes = decider, decider.classes
        return obj


class ZeroShotLLM(DescribeDecide):
    """The base LM, no finetuning, over the same descriptions and template (VLLaVO's zero-shot ablation)."""

    name = "zeroshot-llm"

    def fit(self, train: pd.DataFrame, classes: list[str]) -> ZeroShotLLM:
        self.classes = check_classes(classes)
        if "class" in train and len(train):
            check_labels(train, self.classes)
        self._ensure_decider().set_classes(self.classes)
        return self

    def adapt(self, source: pd.DataFrame, classes: list[str], target: pd.DataFrame) -> list[Any]:
        raise SteervisError("zeroshot-llm does not train, so it has no self-training; use describe-decide.")


def _no_texts(frame: pd.DataFrame) -> list[str]:
    raise SteervisError("This classifier was loaded without a description source; pass texts= to load().")


def factory(context: Any, **options: Any) -> DescribeDecide:
    """``describe-decide``: options are ``preset``, ``overrides`` (``["train.lr=1e-4"]``) or DecideConfig fields."""
    return _build(DescribeDecide, context, options)


def zeroshot_factory(context: Any, **options: Any) -> ZeroShotLLM:
    """``zeroshot-llm``: same options as ``describe-decide``; training settings are unused."""
    return _build(ZeroShotLLM, context, options)


def _build(cls: type[DescribeDecide], context: Any, options: dict[str, Any]) -> Any:
    texts = getattr(context, "describe_texts", None)
    if texts is None:
        raise SteervisError(f"{cls.name} needs descriptions: the method context has no describe_texts.")
    options = dict(options)
    progress = options.pop("progress", True)
    config = decide_config(options.pop("preset", DEFAULT_PRESET), options.pop("overrides", ()), **options)
    return cls(texts, config, getattr(context, "describe_config", None), progress=progress)


METHODS.register("describe-decide", "steervis.methods.describe_decide:factory",
                 help="VLLaVO: LoRA-finetuned LM picks the class from the image's description")
METHODS.register("zeroshot-llm", "steervis.methods.describe_decide:zeroshot_factory",
                 help="the base LM picks the class from the description, no finetuning")
