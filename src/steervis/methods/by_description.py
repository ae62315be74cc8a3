"""Classification by description (Menon & Vondrick 2023): an LLM writes visual descriptors per class; an image
scores each class by its mean similarity to "{class}, which has {descriptor}".

Descriptors are cached as an editable YAML file (one list per class); pass ``descriptors=FILE.yaml`` to use
your own.

>>> clf = ByDescription(MethodContext(), matcher="conse").fit(None, ["dog", "cat"])  # doctest: +SKIP
>>> clf.descriptors["dog"][:2]  # doctest: +SKIP
['four legs', 'a wagging tail']
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from tqdm.auto import tqdm

from steervis.atomic import DAMAGED, set_aside, write_text
from steervis.device import check_placement, precision_identity
from steervis.errors import SteervisError
from steervis.identity import artifact_record, stamped
from steervis.lm.chat import ChatFormat, render_chat, template_or
from steervis.methods.base import Method, check_classes
from steervis.numeric import softmax
from steervis.paths import cache_dir
from steervis.prune import write_record

log = logging.getLogger(__name__)

PROMPT = ("What are useful visual features for distinguishing a {name} in a photo? "
          "Answer with a short list of visual features, one per line, each starting with '-'.")
ANSWER_PREFIX = "There are several useful visual features to tell there is a {name} in a photo:\n-"
MAX_DESCRIPTORS = 6
QUESTION_LINE = ChatFormat("question-line", user="{text}\n")  # for a tokenizer without a chat template


def parse_descriptors(text: str, name: str = "", limit: int = MAX_DESCRIPTORS,
                      max_words: int = 8) -> list[str]:
    """Bullet / numbered lines → short lowercase descriptors.

    Small LMs ramble, so each line is cut to a short phrase ("eyes: eyes are ..." → "eyes"; a clause ends at a
    comma), phrases repeating the class name alone or a previous phrase's prefix are dropped.
    """
    found: list[str] = []
    for line in text.splitlines():
        item = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).replace("**", "").strip().lower()
        head, sep, _ = item.partition(":")
        if sep and 0 < len(head.split()) <= 4:
            item = head
        item = " ".join(item.split(",")[0].split()[:max_words]).rstrip(".;:").strip()
        repeated = any(f.startswith(item) or item.startswith(f) for f in found)
        if len(item) < 2 or item == name.lower() or repeated:
            continue
        found.append(item)
    return found[:limit]


def descriptor_prompt(tokenizer: Any, name: str) -> str:
    """The question in the LM's chat template (or on a line of its own), then the paper's answer prefix, which
    steers the model into a bullet list."""
    fmt = template_or(tokenizer, QUESTION_LINE)
    return render_chat(tokenizer, fmt, [(PROMPT.format(name=name), None)]) + ANSWER_PREFIX.format(name=name)


def write_descriptors(context: Any, lm_name: str, classes: list[str], max_new_tokens: int = 64,
                      device: str = "auto", dtype: str = "auto") -> dict:
    """Ask the language model for each class's visual descriptors (greedy, so the cache is reproducible)."""
    from steervis.lm.generate import generate
    from steervis.lm.model import LanguageModel

    # prompts get BOS where the tokenizer adds one
    lm = LanguageModel(context.model(lm_name, "causal-lm", device, dtype))
    out: dict[str, list[str]] = {}
    for name in tqdm(classes, desc="descriptors", unit="class", disable=not context.progress):
        readable = name.replace("_", " ")
        prompt = lm.prompt(descriptor_prompt(lm.tokenizer, readable))
        # One class at a time: no padding, so greedy answers are those of an unbatched generate.
        answer = generate(lm, [prompt], max_new_tokens=max_new_tokens, batch_size=1)[0]
        out[name] = parse_descriptors("-" + answer, readable) or [readable]
    return out


@dataclass
class ByDescriptionOptions:
    matcher: str = "conse"
    lm: str = "smollm2-135m-instruct"  # writes the descriptors (cached per LM and prompt)
    descriptors: str | None = None  # a YAML file of your own descriptors, one list per class
    temperature: float = 0.01  # CLIP's logit scale 100
    device: str = "auto"  # where its models run: auto, cpu, cuda, cuda:N
    dtype: str = "auto"  # their precision: auto, float32, bfloat16, float16

    def __post_init__(self) -> None:
        check_placement(self)


class ByDescription(Method):
    """Average image–descriptor similarity per class, softmaxed with CLIP's temperature."""

    name = "by-description"
    Options = ByDescriptionOptions

    def __init__(self, context: Any = None, options: ByDescriptionOptions | None = None, **values: Any):
        super().__init__(context, options, **values)
        self.descriptors_file = self.options.descriptors
        self.descriptors: dict[str, list[str]] = {}

    def _cache_file(self) -> tuple[Path, dict[str, Any]]:
        """The descriptor cache of this LM and prompt, and the identity record it is kept under."""
        record = stamped(artifact_record("descriptors", config={
            "lm": self.lm, "prompt": PROMPT, "dtype": precision_identity(self.device, self.dtype)}))
        return cache_dir("descriptors") / f"{self.lm.replace('/', '--')}-{record['key']}.yaml", record

    def fit(self, train: pd.DataFrame | None, classes: list[str]) -> ByDescription:
        self.classes = check_classes(classes)
        if self.descriptors_file:
            path = Path(self.descriptors_file)
            if not path.exists():
                raise SteervisError(f"Descriptor file {path} does not exist.")
            known = yaml.safe_load(path.read_text()) or {}
            missing = [c for c in self.classes if not known.get(c)]
            if missing:
                raise SteervisError(f"{path} has no descriptors for: {', '.join(missing)}.")
        else:
            path, record = self._cache_file()
            known = read_descriptor_cache(path)
            missing = [c for c in self.classes if not known.get(c)]
            if missing:
                known.update(write_descriptors(self.context, self.lm, missing, device=self.device,
                                               dtype=self.dtype))
                dump = yaml.safe_dump(dict(sorted(known.items())), sort_keys=False, allow_unicode=True)
                write_text(path, dump)
                write_record(path, record.pop("key"), record)  # what `steervis cache prune` reads
                log.info("Descriptors cached in %s (edit it, or pass descriptors=FILE.yaml)", path)
        self.descriptors = {c: list(known[c]) for c in self.classes}
        return self

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        images = self.context.image_embeddings(items, self.matcher, self.device, self.dtype)
        matcher = self.context.matcher(self.matcher, self.device, self.dtype)
        scores = np.zeros((len(items), len(self.classes)))
        for k, cls in enumerate(self.classes):
            name = cls.replace("_", " ")
            phrases = [f"{name}, which has {d}" for d in self.descriptors[cls]]
            texts = np.asarray(matcher.encode_texts(phrases))
            scores[:, k] = (images @ texts.T).mean(axis=1)
        return softmax(scores / self.temperature)

    def save(self, directory: str | Path) -> Path:
        directory = super().save(directory)
        (directory / "descriptors.yaml").write_text(yaml.safe_dump(self.descriptors, allow_unicode=True))
        return directory

    def _load_state(self, directory: Path) -> None:
        self.descriptors = yaml.safe_load((directory / "descriptors.yaml").read_text())


def read_descriptor_cache(path: Path) -> dict[str, list[str]]:
    """The cached class → descriptors mapping; a damaged file is set aside (the LM writes them again)."""
    if not path.exists():
        return {}
    try:
        known = yaml.safe_load(path.read_text()) or {}
        if not isinstance(known, dict):
            raise ValueError("not a mapping")
        return known
    except (*DAMAGED, yaml.YAMLError) as err:
        set_aside(path, err, "descriptor cache")
        return {}
