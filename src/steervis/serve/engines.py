"""The page's three models, each built once per process through the public APIs of the systems it serves.

- chat: steervis' LLaVA or a hub Llava (:func:`steervis.llava.vlms.open_vlm`), its answers streamed by
  :class:`steervis.lm.stream.TextStream`;
- classify: a describe-decide adapter from ``steervis fit`` (its card's describer, then the decider:
  :mod:`steervis.methods.finetune`), or a method that needs no fit (``zeroshot``, ``react``:
  :data:`steervis.methods.METHODS`);
- describe: the describer of ``steervis describe`` (tags, attributes, captions).

Each object here is used by one :class:`~steervis.serve.worker.ModelWorker` thread only.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

from steervis.serve.problems import RequestError

VISUALS_KEPT = 16  # tower outputs of the last images chatted about: a multi-turn chat encodes its image once
FITTED_KEPT = 4  # zero-shot class lists kept fitted (text embeddings): a few the page switches between


class ChatModel:
    """A VLM plus the tower outputs of recent images."""

    def __init__(self, name: str | None, device: str = "auto", dtype: str = "auto"):
        from steervis.llava.vlms import open_vlm

        self.vlm = open_vlm(name, device=device, dtype=dtype)
        self._visuals: OrderedDict[str, Any] = OrderedDict()

    def visual(self, key: str, image: Any) -> Any:
        if key not in self._visuals:
            self._visuals[key] = self.vlm.visual([image])[0]
            while len(self._visuals) > VISUALS_KEPT:
                self._visuals.popitem(last=False)
        self._visuals.move_to_end(key)
        return self._visuals[key]

    def answer(self, message: str, history: list[tuple[str, str]], image: tuple[str, Any] | None,
               max_new_tokens: int, temperature: float = 0.0, seed: int = 0,
               min_new_tokens: int = 0) -> tuple[Any, bool]:
        """``(stream, forgot)``: the answer's :class:`~steervis.lm.stream.TextStream` (not started) and
        whether the conversation outgrew the model's context and forgot its earlier turns; a message too long
        on its own is a 413."""
        from steervis.lm.stream import TextStream

        prompt, budget, forgot = self.prompt(message, history, image, max_new_tokens)
        return TextStream(self.vlm.lm, prompt, budget, temperature, seed, min_new_tokens), forgot

    def prompt(self, message: str, history: list[tuple[str, str]], image: tuple[str, Any] | None,
               max_new_tokens: int) -> tuple[Any, int, bool]:
        """``(prompt, token budget, forgot)``."""
        from steervis.llava.model import PromptTooLong

        visual = self.visual(*image) if image is not None else None
        forgot = False
        try:
            prompt = self.vlm.conversation([*history, (message, None)], visual)
            budget = self.vlm.room(prompt)
        except PromptTooLong as err:
            if not history:
                raise RequestError(str(err), 413) from None
            prompt, forgot = self.vlm.conversation([(message, None)], visual), True
            try:
                budget = self.vlm.room(prompt)
            except PromptTooLong as again:
                raise RequestError(str(again), 413) from None
        return prompt, min(max_new_tokens, budget), forgot


class AdapterClassifier:
    """A describe-decide adapter: the card's describer writes the description the decider reads."""

    def __init__(self, adapter: str | Path, device: str = "auto", dtype: str = "auto"):
        from steervis.card import read_card
        from steervis.config import to_dict
        from steervis.methods.finetune import predict_config
        from steervis.methods.texts import describe_config, describe_texts
        from steervis.vllavo.decide.decider import Decider

        card = read_card(adapter, kind="decider")
        config = predict_config(adapter, {"device": device, "dtype": dtype})
        self.name = f"describe-decide ({Path(adapter).name})"
        self.decider = Decider.load(adapter, **to_dict(config))
        self.texts = describe_texts(describe_config(card.decider.describe), config.components, progress=False)

    def classify_many(self, paths: list[Path], classes: list[str]) -> list[dict[str, Any]]:
        """Per image: the decider's classes ranked, and the description it read (``classes`` are its own)."""
        texts = self.texts(frame_of(paths))
        probs = self.decider.predict_proba(texts)
        return [ranked(self.name, self.decider.classes, p, t) for p, t in zip(probs, texts, strict=True)]


class MethodClassifier:
    """A method that needs no fit (zero-shot, REACT) over the configured or the requested class names."""

    def __init__(self, method: str, options: dict[str, Any], classes: list[str]):
        from steervis.methods import METHODS, method_options
        from steervis.methods.context import MethodContext

        self.name, self.classes = method, list(classes)
        METHODS.get(method)  # an unknown method fails here, at load, with did-you-mean
        self.options = method_options(method, options)
        self.context = MethodContext(progress=False)
        self._fitted: OrderedDict[tuple[str, ...], Any] = OrderedDict()
        if self.classes:
            self.fitted(self.classes)  # REACT customizes its matcher for the classes now, not on a request

    def fitted(self, classes: list[str]) -> Any:
        from steervis.methods import build_method

        key = tuple(classes)
        if key not in self._fitted:
            if self.name != "zeroshot" and self._fitted:
                raise RequestError(f"{self.name} was fitted for {', '.join(self.classes)} when the server "
                                  "started: restart it with --classes to change them.", 400)
            self._fitted[key] = build_method(self.name, self.context, self.options).fit(None, list(classes))
            while len(self._fitted) > FITTED_KEPT:
                self._fitted.popitem(last=False)
        return self._fitted[key]

    def classify_many(self, paths: list[Path], classes: list[str]) -> list[dict[str, Any]]:
        """Per image: ``classes`` (default: the configured ones) ranked."""
        classes = classes or self.classes
        if len(classes) < 2:
            raise RequestError("Name at least two classes to choose from (e.g. cat, dog).", 400)
        probs = self.fitted(classes).predict_proba(frame_of(paths))
        return [ranked(self.name, classes, p, "") for p in probs]


def frame_of(paths: list[Path]) -> Any:
    """The items frame (path, sha256, ...) of uploaded images, one row each, in order."""
    import pandas as pd

    from steervis.data.inputs import frame_from_input

    return pd.concat([frame_from_input(path) for path in paths], ignore_index=True)


def ranked(method: str, classes: list[str], probs: Any, description: str) -> dict[str, Any]:
    """The page's answer: every class with its probability, most probable first."""
    order = sorted(range(len(classes)), key=lambda i: -float(probs[i]))
    rows = [{"name": classes[i], "p": round(float(probs[i]), 6)} for i in order]
    return {"method": method, "label": rows[0]["name"], "classes": rows, "description": description}


def placed(options: dict[str, Any], config: Any) -> dict[str, Any]:
    """A model's options with the page's ``device`` and ``dtype`` wherever they leave them at ``auto``."""
    page = {k: getattr(config, k) for k in ("device", "dtype") if options.get(k, "auto") == "auto"}
    return {**options, **page}


def load_classifier(config: Any) -> Any:
    if config.adapter:
        return AdapterClassifier(config.adapter, config.device, config.dtype)
    return MethodClassifier(config.method, placed(config.options, config), config.classes)


def load_describer(config: Any) -> Any:
    from dataclasses import replace

    from steervis.vllavo.describe.describer import get_describer

    own = {"device": config.describe.device, "dtype": config.describe.dtype}
    return get_describer(replace(config.describe, **placed(own, config)))


def describe_many(describer: Any, images: list[Any]) -> list[dict[str, Any]]:
    """Per image: its tags, attributes and captions, and the text block the decider would read."""
    return [{**{k: v for k, v in found.to_dict().items() if k != "provenance"}, "text": found.render()}
            for found in describer.describe_images(images)]
