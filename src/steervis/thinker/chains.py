"""Reasoning chains written from captions: a text LM reads what a caption says about an image and a question,
writes ``n`` sampled ``<think>…</think><answer>…</answer>`` chains, and only the chains whose answer verifies
against the question's truth are kept, as OpenVLThinker distils reasoning from a text model reading captions.

Which caption the writer reads is the *setting*, recorded on every chain: ``oracle`` is the scene's reference
caption (written from the truth; it states names, counts and colours but no positions or sizes, so its
``left_of``, ``above`` and ``bigger`` chains can only guess: read their yield against chance); any other
label is a caption the caller passes per scene (``faithful``: the VLM's own caption of the image, which the
VLM will later have to reason from). Writers (:class:`Writer`): :class:`LMWriter` samples from a zoo LM (a
chain ends at its first ``</answer>``, as a stop sequence would end it); :class:`TemplateTeacher` writes a
correct chain from the question's own steps and truth (the labelled upper bound of the writers).

A run folder holds ``run.json`` (what is written: writer and its options, samples, seed, setting),
``records.jsonl`` (one line per question as it is done: every sample, whether it follows the format and
whether it verified) and ``chains.parquet`` (the verified chains as SFT items: image path, question,
chain). A rerun of the same settings skips the questions already in ``records.jsonl``; other settings into
the same folder are refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from steervis.errors import SteervisError
from steervis.thinker.answers import chain_text, parse, verified
from steervis.thinker.questions import TYPES

if TYPE_CHECKING:
    import pandas as pd

# One worked example: SmolLM2-135M asked for the format without one followed it in none of six samples.
PROMPT = ("You cannot see an image, only its description; reason from the description alone. Think step by "
          "step inside <think></think>, then give the short final answer inside <answer></answer>.\n"
          "Example. Description: two cats and a dog. Question: How many more cats than dogs are there?\n"
          "<think>The description lists 2 cats and 1 dog. 2 - 1 = 1.</think><answer>1</answer>\n"
          "Now yours. Description: {caption} Question: {question}")
OPENING = "<think>"  # written for the LM after its assistant cue (prefill), so its chain starts in the format
CLOSING = "</answer>"  # a chain ends here, as a stop sequence would end it (small LMs ramble on past it)
RECORDS, RUN, CHAINS = "records.jsonl", "run.json", "chains.parquet"
TEACHER = "template"  # the writer name of the template teacher; every other name is a zoo LM
ITEM_COLUMNS = ["image", "question", "chain", "answer", "type", "qid", "scene", "caption", "setting",
                "writer"]


class Writer(Protocol):
    """Writes ``n`` chains per question: ``write(rows, captions, n, seed) -> [[text] * n per row]``;
    ``options`` are the settings that change what it writes (a run folder records them)."""

    name: str
    options: dict[str, Any]

    def write(self, rows: Sequence[Mapping[str, Any]], captions: Sequence[str], n: int,
              seed: int) -> list[list[str]]: ...


def cut(text: str) -> str:
    """``text`` up to its first :data:`CLOSING` (whole when it has none).

    >>> cut("<think>2 - 1 = 1.</think><answer>1</answer>\\nNow you try: <answer>3</answer>")
    '<think>2 - 1 = 1.</think><answer>1</answer>'
    """
    end = text.find(CLOSING)
    return text if end < 0 else text[: end + len(CLOSING)]


def question_seed(seed: int, qid: str) -> int:
    """A question's own sampling seed: its chains do not depend on which other questions share a run."""
    return int(hashlib.sha256(f"{seed}:{qid}".encode()).hexdigest()[:8], 16)


class LMWriter:
    """Samples chains from a causal LM (a :class:`~steervis.lm.model.LanguageModel`) through its chat
    template (or ``chatml`` for a tokenizer without one); with ``prefill`` the assistant turn starts with
    :data:`OPENING`, which the chain keeps (the LM still has to close it and write the answer)."""

    def __init__(self, lm: Any, name: str = "", max_new_tokens: int = 192, temperature: float = 0.7,
                 prefill: bool = True):
        self.lm, self.name = lm, name or lm.name
        self.max_new_tokens, self.temperature = max_new_tokens, temperature
        self.opening = OPENING if prefill else ""
        self.options = {"max_new_tokens": max_new_tokens, "temperature": temperature, "prompt": PROMPT,
                        "prefill": self.opening}

    @classmethod
    def load(cls, name: str, **options: Any) -> LMWriter:
        """A zoo LM by name (``smollm2-135m-instruct``, ``gemma3-270m``, ``tiny-llama``)."""
        from steervis import zoo
        from steervis.lm.model import LanguageModel

        return cls(LanguageModel(zoo.load(name, kind="causal-lm"), add_special_tokens=False), name, **options)

    def prompt_ids(self, caption: str, question: str) -> list[int]:
        from steervis.lm.chat import CHAT_FORMATS, encode_chat, template_or

        fmt = template_or(self.lm.tokenizer, CHAT_FORMATS["chatml"])
        text = PROMPT.format(caption=caption, question=question)
        opening = self.lm.tokenizer(self.opening, add_special_tokens=False).input_ids if self.opening else []
        return encode_chat(self.lm.tokenizer, fmt, [(text, None)])[0] + opening

    def write(self, rows: Sequence[Mapping[str, Any]], captions: Sequence[str], n: int,
              seed: int) -> list[list[str]]:
        from steervis.lm.batch import Prompt
        from steervis.lm.generate import generate

        out = []
        for row, caption in zip(rows, captions, strict=True):
            prompt = Prompt(self.prompt_ids(caption, row["question"]))
            texts = generate(self.lm, [prompt] * n, max_new_tokens=self.max_new_tokens, batch_size=n,
                             sample=True, temperature=self.temperature, seed=question_seed(seed, row["qid"]))
            out.append([self.opening + cut(text) for text in texts])
        return out


@dataclass
class TemplateTeacher:
    """Writes the question's own steps and truth in the format: every chain is right (the upper bound)."""

    name: str = TEACHER
    options: dict[str, Any] = field(default_factory=dict)

    def write(self, rows: Sequence[Mapping[str, Any]], captions: Sequence[str], n: int,
              seed: int) -> list[list[str]]:
        return [[chain_text(" ".join(row["steps"]), str(row["answer"]))] * n for row in rows]


def open_writer(name: str, max_new_tokens: int = 192, temperature: float = 0.7,
                prefill: bool = True) -> Writer:
    """The template teacher (``template``) or a zoo LM's :class:`LMWriter` (an LM whose weights are not
    installed is one sentence from the zoo)."""
    if name == TEACHER:
        return TemplateTeacher()
    return LMWriter.load(name, max_new_tokens=max_new_tokens, temperature=temperature, prefill=prefill)


def judge(text: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """One sample: its text, its parts, whether it follows the format and whether its answer verifies."""
    parsed = parse(text)
    ok = parsed is not None and verified(parsed.answer, TYPES[row["type"]].answer, str(row["answer"]),
                                         list(row["options"]))
    return {"text": text.strip(), "format_ok": parsed is not None,
            "answer": parsed.answer if parsed else None, "verified": bool(ok)}


@dataclass(frozen=True)
class RunSettings:
    """What a run folder's chains are written with (a rerun with other settings is refused)."""

    writer: str
    samples: int
    seed: int
    setting: str
    options: dict[str, Any]


def read_records(out: Path) -> list[dict]:
    """The records a run has written; a line cut short by a kill is dropped (that question is redone)."""
    path = out / RECORDS
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def _open_run(out: Path, settings: RunSettings) -> None:
    """Create the run folder, or check that the one there was written with the same settings (and cut a
    line a kill left unfinished, so the next append starts a line of its own)."""
    from steervis.atomic import write_text

    info = out / RUN
    if info.is_file():
        found = json.loads(info.read_text())
        wanted = json.loads(json.dumps(asdict(settings)))  # as read back: tuples become lists
        if found != wanted:
            differ = sorted(k for k in {*found, *wanted} if found.get(k) != wanted.get(k))
            raise SteervisError(f"{out} holds chains written with other settings ({', '.join(differ)}): give "
                                "another folder.")
        records = out / RECORDS
        if records.is_file():
            data = records.read_bytes()
            if data and not data.endswith(b"\n"):
                with open(records, "r+b") as f:
                    f.truncate(data.rfind(b"\n") + 1)
        return
    out.mkdir(parents=True, exist_ok=True)
    write_text(info, json.dumps(asdict(settings), indent=1) + "\n")


def _captions(rows: pd.DataFrame, captions: Mapping[int, str] | None, setting: str) -> list[str]:
    if captions is None:
        if setting != "oracle":
            raise SteervisError(f"The {setting!r} setting needs its captions; without them the reference "
                                "captions are read, which is the oracle setting.")
        return [str(c) for c in rows["caption"]]
    if setting == "oracle":
        raise SteervisError("Captions were given, so this is not the oracle setting: label it (faithful).")
    missing = sorted({int(s) for s in rows["scene"]} - {int(s) for s in captions})
    if missing:
        raise SteervisError(f"No caption was given for scene {missing[0]} ({len(missing)} scenes lack one).")
    return [str(captions[int(s)]) for s in rows["scene"]]


def write_chains(questions: pd.DataFrame, out: str | Path, writer: Writer, n: int = 4, seed: int = 0,
                 captions: Mapping[int, str] | None = None, setting: str = "oracle", chunk: int = 8,
                 progress: bool = False) -> list[dict]:
    """Write ``n`` chains for every question not yet done in ``out``, keep the verified ones, and return every
    record of these questions (this run's and an earlier one's).

    Args:
        questions: Rows of :func:`~steervis.thinker.questions.thinker_questions`.
        out: The run folder (created; resumed when it holds a run of the same settings).
        writer: A :class:`Writer` (:class:`LMWriter`, :class:`TemplateTeacher`).
        n: Chains sampled per question.
        seed: Seeds each question's sampling (with its id).
        captions: Scene index → the caption the writer reads (``None``: the reference caption).
        setting: The label of the captions read: ``oracle`` (reference captions) or another (``faithful``).
        chunk: Questions written between two appends to ``records.jsonl`` (a kill loses at most these).
        progress: Show a progress bar.
    """
    from tqdm.auto import tqdm

    if n < 1:
        raise SteervisError(f"Chains per question must be at least 1 (got {n}).")
    out = Path(out).expanduser()
    texts = _captions(questions, captions, setting)
    _open_run(out, RunSettings(writer.name, n, seed, setting, getattr(writer, "options", {})))
    done = {r["qid"] for r in read_records(out)}
    todo = [(row, text) for row, text in zip(questions.to_dict("records"), texts, strict=True)
            if row["qid"] not in done]
    keep = ("qid", "scene", "image", "type", "question", "answer", "options", "chance")
    for start in tqdm(range(0, len(todo), chunk), desc=f"chains {writer.name}", disable=not progress):
        part = todo[start: start + chunk]
        written = writer.write([r for r, _ in part], [c for _, c in part], n, seed)
        lines = [json.dumps({**{k: _plain(row[k]) for k in keep}, "caption": caption, "setting": setting,
                             "writer": writer.name, "samples": [judge(t, row) for t in samples]})
                 for (row, caption), samples in zip(part, written, strict=True)]
        with open(out / RECORDS, "a") as f:
            f.write("".join(line + "\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
    wanted = set(questions["qid"])
    records = [r for r in read_records(out) if r["qid"] in wanted]
    write_items(records, out / CHAINS)
    return records


def _plain(value: Any) -> Any:
    """A parquet cell as JSON takes it (numpy integers and arrays as Python numbers and lists)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def chain_items(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The verified chains as SFT items (one row per distinct verified chain of a question)."""
    import pandas as pd

    rows = [{"image": r["image"], "question": r["question"], "chain": text, "answer": r["answer"],
             "type": r["type"], "qid": r["qid"], "scene": r["scene"], "caption": r["caption"],
             "setting": r["setting"], "writer": r["writer"]}
            for r in records for text in dict.fromkeys(s["text"] for s in r["samples"] if s["verified"])]
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


def write_items(records: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """:func:`chain_items` to a parquet file, atomically."""
    import io

    from steervis.atomic import write_bytes

    buffer = io.BytesIO()
    chain_items(records).to_parquet(buffer, index=False)
    return write_bytes(path, buffer.getvalue())
