"""The model card: one typed record of what a saved model is, beside its weights in ``card.json``.

Every model steervis saves (describe-decide's decider, a trained VLM, REACT's customized matchers) holds one
:class:`ModelCard`: its kind, the steervis version and card format that wrote it, the base model, the config
it was built from, the data it saw, its metrics, and its system's own section. :func:`read_card` reads it
strictly (an unknown key is an error with a did-you-mean hint) and turns a missing, damaged, foreign, older or
wrong-kind card into one sentence naming the command that rebuilds the model.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> card = ModelCard(kind="decider", base="tiny-llama", decider=DeciderSection(classes=["cat", "dog"]))
>>> _ = write_card(folder, card)
>>> read_card(folder, kind="decider").decider.classes
['cat', 'dog']
>>> read_card(folder, kind="vlm")
Traceback (most recent call last):
steervis.errors.SteervisError: .../card.json holds a decider, not a vlm: ...
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steervis.atomic import write_text
from steervis.config import from_dict, to_dict
from steervis.errors import SteervisError
from steervis.identity import code_versions

CARD_NAME = "card.json"
# 3: one ModelCard for every saved model (kind, base, config, data, metrics, one section per system); cards of
# formats 1 and 2 (the decider's and VLM's loose dicts, REACT's own) are not read: their models are rebuilt.
CARD_FORMAT = 3
REACT_REBUILD = ("rebuild it with `steervis react build` (react-pool) or `steervis react customize` (a "
                 "task's matcher)")
# What rebuilds each kind of model: every refusal of a card names it.
REBUILD = {
    "decider": "refit it with `steervis fit` (give its --out folder)",
    "vlm": "retrain it with `steervis vlm train`",
    "react-head": REACT_REBUILD,
    "react-clip": REACT_REBUILD,
    "grounder": "retrain it with `steervis ground train`",
}
KINDS = tuple(REBUILD)
# Keys the cards of formats 1 and 2 held one of: such a folder is still steervis' own (may be overwritten).
OLDER_CARD_KEYS = ("card_version", "base_model", "vlm", "pairs")


@dataclass
class DeciderSection:
    """describe-decide's own facts: what it answers with, and how its descriptions were made."""

    classes: list[str]
    finetuned: bool = False
    template: str = ""
    prior: list[float] | None = None  # class prior for calibrated scoring (None: not estimated)
    method: str = ""  # the evaluate method that saved it (describe-decide, vllavo-uda, ...)
    describe: dict[str, Any] | None = None  # the describer's config: predict describes the same way
    selftrain_rounds: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class VLMSection:
    """steervis' LLaVA's own facts: its vision tower and each training run (stage 1, 2, classification)."""

    vision_tower: str = ""
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    method: str = ""  # the evaluate method that finetuned it (vlm-finetuned), if any
    options: dict[str, Any] = field(default_factory=dict)  # that method's options


@dataclass
class ReactSection:
    """A customized matcher's own facts: which one, its weights, the pool it came from, what loads it."""

    name: str  # react-pool (the whole pool) or react (one task's classes)
    weights: str  # the safetensors file beside the card
    head_hash: str  # sha256 of the weights: names the matcher's cached embeddings
    pool_hash: str
    image: str = ""  # react-head: the base matcher's image model
    base_version: str = ""  # react-head: the base matcher's version
    every: int = 0  # react-clip: a gated block after every N layers of the image tower
    classes: list[str] = field(default_factory=list)  # react: the task's classes (empty for react-pool)
    versions: dict[str, str] = field(default_factory=dict)  # packages it was built with


@dataclass
class GrounderSection:
    """The GLIP-style grounder's own facts: its recipe and the frozen parts the trained head reads."""

    recipe: str = ""  # the preset it was trained from (empty: settings given otherwise)
    trunk: str = ""
    text: str = ""
    fusion: bool = False


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _version() -> str:
    import steervis

    return steervis.__version__


@dataclass
class ModelCard:
    """What a saved model is. ``config``, ``data`` and ``metrics`` are plain facts (the system's own config
    is read from ``config`` by its typed config class); the section of the card's ``kind`` is set."""

    kind: str  # one of KINDS
    base: str  # the base model it was built on (an LM, a matcher, a CLIP)
    config: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # what it was trained on (hashes, sizes, sources)
    metrics: dict[str, Any] = field(default_factory=dict)  # how training went
    decider: DeciderSection | None = None
    vlm: VLMSection | None = None
    react: ReactSection | None = None
    grounder: GrounderSection | None = None
    steervis: str = field(default_factory=_version)
    code: dict[str, int] = field(default_factory=dict)  # behaviour versions of the code that trained it
    format: int = CARD_FORMAT
    created: str = field(default_factory=_now)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SteervisError(f"A model card's kind is one of {', '.join(KINDS)}, not {self.kind!r}.")
        if not self.code:  # a new card: today's trainer wrote it
            self.code = code_versions(f"model-{self.kind.split('-')[0]}")
        section = self.kind.split("-")[0]
        if getattr(self, section) is None:
            raise SteervisError(f"A {self.kind} model card needs its {section!r} section.")

    def to_json(self) -> str:
        return json.dumps(to_dict(self), indent=2, default=_jsonable)


def _jsonable(obj: Any) -> Any:
    item = getattr(obj, "item", None)  # numpy scalars
    return item() if callable(item) else str(obj)


def card_path(folder: str | Path) -> Path:
    return Path(folder) / CARD_NAME


def has_card(folder: str | Path) -> bool:
    """Whether ``folder`` holds a model card (readable or not): what marks a saved model's folder."""
    return card_path(folder).is_file()


def is_steervis_card(folder: str | Path) -> bool:
    """Whether ``folder``'s card is one steervis wrote, of any format (a user's own card.json is not)."""
    try:
        return _ours(json.loads(card_path(folder).read_text()))
    except (OSError, ValueError):
        return False


def _ours(raw: Any) -> bool:
    """A card of this format (format and kind) or of an older one (one of the keys those held)."""
    return isinstance(raw, dict) and ({"format", "kind"} <= raw.keys()
                                      or any(key in raw for key in OLDER_CARD_KEYS))


def write_card(folder: str | Path, card: ModelCard) -> Path:
    """Write ``card`` into ``folder``, atomically (a reader sees the old card or the new one, whole)."""
    return write_text(card_path(folder), card.to_json())


def read_card(folder: str | Path, kind: str | Sequence[str] | None = None, fix: str = "") -> ModelCard:
    """The model card in ``folder``, of ``kind`` (one kind or several; ``None``: any).

    Every way a folder can fail to be that model is one sentence ending in what to do (``fix``, default: the
    command that rebuilds the kind).
    """
    kinds = (kind,) if isinstance(kind, str) else tuple(kind or KINDS)
    fix = fix or "; or ".join(dict.fromkeys(REBUILD[k] for k in kinds))
    folder, path = Path(folder), card_path(folder)
    if not folder.is_dir():
        raise SteervisError(f"{folder} is not a folder: {fix}.")
    if not path.is_file():
        raise SteervisError(f"{folder} is not a steervis model (no {CARD_NAME}): {fix}.")
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise SteervisError(f"{path} is damaged (not valid JSON): {fix}.") from None
    if not isinstance(raw, dict):
        raise SteervisError(f"{path} is damaged (not a JSON object): {fix}.")
    found = raw.get("format", raw.get("card_version", 1))
    if found != CARD_FORMAT and _ours(raw):
        if isinstance(found, int) and found > CARD_FORMAT:
            raise SteervisError(f"{path} was written by a newer steervis (card format {found}; this one "
                                f"reads {CARD_FORMAT}): upgrade steervis, or {fix}.")
        raise SteervisError(f"{path} was written by an older steervis (card format {found}, now "
                            f"{CARD_FORMAT}): {fix}.")
    try:
        card = from_dict(ModelCard, raw)
    except (SteervisError, TypeError) as err:  # TypeError: a required field is missing
        raise SteervisError(f"{path} is not a steervis model card ({_detail(err)}): {fix}.") from None
    if card.kind not in kinds:
        raise SteervisError(f"{path} holds a {card.kind}, not a {' or '.join(kinds)}: {fix}.")
    return card


def _detail(err: Exception) -> str:
    """A reading error as a clause inside one sentence."""
    text = str(err).rstrip(".").replace(". Did you mean", ", did you mean")
    if isinstance(err, TypeError):  # "__init__() missing 1 required positional argument: 'kind'"
        return "missing " + text.rsplit(": ", 1)[-1]
    return text.replace("Unknown config key", "unknown key").replace("Config value", "value")
