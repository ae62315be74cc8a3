"""The data engine: LLaVA's text-only trick with the embedded LM. From what a pool item's text says about its
image (title, description, keywords), the LM writes answers of LLaVA's three instruction kinds, batched:

- ``conversation``: two short questions about the object, one conversation;
- ``detail``: a detailed description (LLaVA's "Describe the image in detail." prompts);
- ``reasoning``: a question that needs a step beyond the text (use, purpose, context).

The LM sees only the text, never the image, as GPT-4 did for LLaVA. Questions are drawn (seeded per item) from
fixed lists, as LLaVA draws its detail prompts; the LM writes the answers. An answer is kept only if it is
grounded in the given text: at least ``min_overlap`` of its content words (not stopwords, 3+ letters, a plural
``s`` ignored) occur in the text, so an answer that invents colours or objects is dropped. Every answer is
stored (kept or not) per (image sha256, kind) in a :class:`~steervis.store.Store` under
``STEERVIS_HOME/vlm-engine/<id>``, so a second run, and stage 2 (``steervis vlm train --stage 2 --set
engine_items=N``), reuse them.

>>> grounded("A red apple on a table.", "a drawing of an apple. keywords: red, fruit, table")
True
>>> grounded("A blue car driving fast.", "a drawing of an apple. keywords: red, fruit")
False
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from steervis.identity import artifact_key
from steervis.llava.data import Item
from steervis.store import Store

KINDS = {
    "conversation": ["What is the main object in the image?", "What is it used for?",
                     "What does it look like?", "Where would you usually find it?",
                     "What is happening in the image?"],
    "detail": ["Describe the image in detail.", "Give a detailed description of the image.",
               "What do you see in this image? Describe it thoroughly."],
    "reasoning": ["Why might someone make a picture like this?",
                  "What could this object be used for, and why?",
                  "What is unusual or interesting about this image?"],
}
CONVERSATION_TURNS = 2
WRITER = ("Here is a description of an image: {text}\n"
          "You cannot see the image; answer only from the description, as if you could see it. Do not "
          "mention the description.\nQuestion: {question}")
_STOP = (
    "the and for with this that are was were has have had its it's from into onto over under about there "
    "their they them then than what which who whom whose when where why how can could would should may might "
    "will also very just some any all each other such only own same not but yet image picture photo shows "
    "shown showing appears looks like see seen one two you your our out off too")


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


STOPWORDS = frozenset(_stem(w) for w in _STOP.split())
_WORD = re.compile(r"[a-z]+")


def content_words(text: str) -> set[str]:
    """Lower-case words of 3+ letters, not stopwords, a trailing plural ``s`` removed."""
    words = {_stem(w) for w in _WORD.findall(text.lower()) if len(w) >= 3}
    return words - STOPWORDS


def grounded(answer: str, source: str, min_overlap: float = 0.5, min_words: int = 1) -> bool:
    """Whether at least ``min_overlap`` of the answer's content words (and at least ``min_words``) occur in
    ``source``."""
    words = content_words(answer)
    if len(words) < min_words:
        return False
    return len(words & content_words(source)) / len(words) >= min_overlap


@dataclass
class EngineSettings:
    """How the engine writes (the id of its store is a hash of these)."""

    lm: str = "smollm2-135m-instruct"
    max_new_tokens: int = 64  # stage 2's answer budget: answers of at most 64 tokens
    min_overlap: float = 0.5  # half of an answer's content words must come from the text
    batch_size: int = 8
    seed: int = 0

    def content(self) -> dict[str, Any]:
        """The settings that change what the engine writes (the batch size does not), with its writer."""
        return {**{k: v for k, v in asdict(self).items() if k != "batch_size"}, "writer": WRITER}

    @property
    def id(self) -> str:
        return artifact_key("vlm-engine", config=self.content())


def questions_for(sha256: str, kind: str, seed: int = 0) -> list[str]:
    """The item's questions of ``kind``: a seeded draw that depends on the item alone, not on its batch."""
    import numpy as np

    rng = np.random.default_rng(int(hashlib.sha256(f"{seed}:{kind}:{sha256}".encode()).hexdigest()[:8], 16))
    pool = KINDS[kind]
    n = CONVERSATION_TURNS if kind == "conversation" else 1
    return [pool[i] for i in rng.choice(len(pool), n, replace=False)]


class EngineStore(Store):
    """Written answers per (sha256, kind): a :class:`~steervis.store.Store` keyed by ``<sha256>:<kind>``, one
    JSON record a row, a part every few batches."""

    def __init__(self, directory: str | Path, identity: dict[str, Any] | None = None):
        super().__init__(directory, key="item", identity=identity, what="data engine part")

    @property
    def records(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(sha256, kind) → record, read from the parts at each access."""
        found = (json.loads(r) for r in self.rows()["record"]) if len(self) else ()
        return {(r["sha256"], r["kind"]): r for r in found}

    def add(self, records: Sequence[dict[str, Any]]) -> None:
        self.put(pd.DataFrame({"item": [f"{r['sha256']}:{r['kind']}" for r in records],
                               "record": [json.dumps(r, ensure_ascii=False) for r in records]}))


def _writer_lm(name: str) -> Any:
    from steervis import zoo
    from steervis.lm.model import LanguageModel

    return LanguageModel(zoo.load(name, kind="causal-lm"), add_special_tokens=False)


def engine_frame(n: int, seed: int = 0, root: str | Path | None = None) -> Any:
    """The pool items the engine writes for: a seeded sample of its own (not stage 2's classification
    sample)."""
    from steervis.llava.data import pool_frame

    return pool_frame(n, seed=seed + 2, root=root)


def write_instructions(frame: Any, settings: EngineSettings | None = None, lm: Any = None, store: Any = None,
                       kinds: Sequence[str] = tuple(KINDS),
                       progress: bool = False) -> tuple[list[Item], dict[str, Any]]:
    """Stage-2 conversations written from pool texts; returns ``(items, stats)``.

    Args:
        frame: Pool rows with ``sha256``, ``path`` and ``text`` (:func:`steervis.llava.data.pool_frame`).
        settings: Writer model, answer budget, grounding threshold.
        lm: A :class:`~steervis.lm.model.LanguageModel` to write with (default: ``settings.lm``).
        store: An :class:`EngineStore` (default: the cache's store for these settings).
        kinds: Which instruction kinds to write.
    """
    from tqdm.auto import tqdm

    from steervis.llava.conversation import encode_turns, template
    from steervis.lm.batch import Prompt
    from steervis.lm.generate import generate
    from steervis.paths import cache_dir

    settings = settings or EngineSettings()
    store = store or EngineStore.for_artifact(cache_dir("vlm-engine"), "engine", "vlm-engine",
                                              config=settings.content())
    rows = list(frame[["sha256", "path", "text"]].itertuples(index=False))
    source = {r.sha256: r.text for r in rows}
    written = store.records
    todo = [(r, kind) for r in rows for kind in kinds if (r.sha256, kind) not in written]
    # One generation request per (item, kind, question); a conversation's turns are answered independently.
    requests = [(r, kind, q) for r, kind in todo for q in questions_for(r.sha256, kind, settings.seed)]
    if requests:
        lm = lm or _writer_lm(settings.lm)
        tpl = template("chatml")
        step = settings.batch_size * 4  # store a part every few batches: a killed run loses little
        answers: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for start in tqdm(range(0, len(requests), step), desc="data engine", disable=not progress):
            chunk = requests[start : start + step]
            prompts = [Prompt(encode_turns(lm.tokenizer, tpl,
                                           [(WRITER.format(text=r.text, question=q), None)], 0, -1)[0])
                       for r, _, q in chunk]
            texts = generate(lm, prompts, max_new_tokens=settings.max_new_tokens,
                             batch_size=settings.batch_size)
            for (r, kind, q), text in zip(chunk, texts, strict=True):
                answers.setdefault((r.sha256, kind), []).append((q, " ".join(text.split())))
            done = [key for key in dict.fromkeys((r.sha256, kind) for r, kind, _ in chunk)
                    if len(answers[key]) == len(questions_for(key[0], key[1], settings.seed))]
            store.add([{"sha256": s, "kind": k, "turns": answers.pop((s, k)), "text": source[s]}
                       for s, k in done])
    return _items(rows, kinds, store, settings)


def _items(rows: Sequence[Any], kinds: Sequence[str], store: EngineStore,
           settings: EngineSettings) -> tuple[list[Item], dict[str, Any]]:
    """Conversations of the grounded answers, and per kind how many answers were written and kept."""
    items: list[Item] = []
    stats = {kind: {"answers": 0, "kept": 0, "items": 0} for kind in kinds}
    written = store.records
    for r in rows:
        for kind in kinds:
            rec = written.get((r.sha256, kind))
            if rec is None:
                continue
            kept = [(q, a) for q, a in rec["turns"] if a and grounded(a, r.text, settings.min_overlap)]
            stats[kind]["answers"] += len(rec["turns"])
            stats[kind]["kept"] += len(kept)
            if kept:
                kept[0] = (f"<image>\n{kept[0][0]}", kept[0][1])
                items.append(Item(r.sha256, r.path, kept))
                stats[kind]["items"] += 1
    for row in stats.values():
        row["kept_rate"] = round(row["kept"] / row["answers"], 3) if row["answers"] else None
    return items, stats
