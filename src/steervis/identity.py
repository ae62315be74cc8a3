"""One identity for every cached artifact: what it was computed from, and by which behaviour of the code.

A description, a feature vector, a text embedding, a run part or a trained model is looked up by
:func:`artifact_key`, a hash over four things:

* its config's content fields (the settings that change the output, nothing else),
* its inputs' bytes (image sha256s, texts, a split's rows: passed as digests or strings),
* the weights it reads (a model's name, or ``name@hash`` of the files of a model trained here:
  :func:`folder_identity`),
* the behaviour version of every package that computes it (:data:`BEHAVIOUR`).

The behaviour versions are numbers kept here, one per package, bumped by hand whenever a package's outputs
change. They are checked, not trusted: ``tests/core/test_fingerprints.py`` runs each cached computation on a
fixed tiny input and compares the hash of its output with a committed table keyed by version, so an output
that changes while its version stays fails CI. A refactor, a rename or a comment keeps every fingerprint and
therefore every cache; hashing the source text instead would throw away hours of fits on every refactor.

>>> key = artifact_key("text-embeddings", config={"matcher": "conse"}, inputs=["a dog"])
>>> len(key), key == artifact_key("text-embeddings", config={"matcher": "conse"}, inputs=["a cat"])
(16, False)
>>> artifact_record("text-embeddings", config={"matcher": "conse"})["code"]
{'matchers': 1}
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Behaviour version per package: bump one when the outputs it computes change (the fingerprint test says
# when). A bump makes every artifact that package computes a new key; `steervis cache prune` frees the old.
BEHAVIOUR = {
    "data": 1,  # manifests, image decoding, pool texts
    "matchers": 1,  # image and text embeddings: ConSE, CLIP, the text-embedding cache
    "describe": 1,  # tags, attributes, captions, pool captions → a description
    "lm": 1,  # the LM core: class scoring, generation, the trainer
    "decide": 1,  # the decider: template, LoRA fit, prediction, self-training
    "llava": 1,  # the VLM: towers, projector, conversation, stage training, the data engine
    "react": 1,  # REACT: retrieval, gated head and gated CLIP, customization
    "methods": 2,  # evaluate's methods and protocols (what a run part holds)
}

# The packages whose behaviour each kind of artifact depends on: a bump elsewhere keeps it.
KINDS = {
    "description": ("data", "matchers", "describe", "lm", "llava", "react"),
    "image-features": ("data", "matchers", "react"),
    "text-embeddings": ("matchers",),
    "vlm-features": ("data", "llava"),
    "vlm-engine": ("lm", "llava"),
    "descriptors": ("lm", "methods"),
    "retrieval": ("data", "matchers", "react"),
    "run-part": tuple(BEHAVIOUR),  # a result depends on every step before it
    "model-vlm": ("data", "lm", "llava"),
    "model-react": ("data", "matchers", "react"),
    "model-decider": ("lm", "decide"),
    "ground-descriptions": ("data",),  # DesCo's descriptions: pool texts rewritten without the class name
    # the trained grounder: its code has no behaviour version of its own (one would re-key every run part)
    "model-grounder": ("data",),
    # `steervis ground eval`'s detections, kept to resume a killed run: the crop baseline's matcher computes
    # them, and a trained grounder enters by the hash of its files
    "ground-detections": ("data", "matchers"),
    # VRL's verbalizer answers: a text LM's, or a VLM's shown two images (their hashes are inputs)
    "vrl-answers": ("lm", "llava"),
    # VRL's VLM mapping: a VLM's yes/no log-odds per image × criterion question (the mapper is a method's)
    "vrl-vlm-scores": ("data", "lm", "llava", "methods"),
}


def code_versions(kind: str) -> dict[str, int]:
    """``package → behaviour version`` for what computes ``kind``."""
    if kind not in KINDS:
        raise KeyError(f"unknown artifact kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    return {package: BEHAVIOUR[package] for package in KINDS[kind]}


def _content(config: Any) -> Any:
    return dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config


def artifact_record(kind: str, config: Any = None, inputs: Iterable[str] = (),
                    weights: Iterable[str] = ()) -> dict[str, Any]:
    """What an artifact's key stands for, as plain JSON (a store writes it beside the artifact)."""
    digest = hashlib.sha256()
    for item in inputs:
        digest.update(str(item).encode())
        digest.update(b"\0")  # ["ab", "c"] and ["a", "bc"] are different inputs
    return {"kind": kind, "config": _content(config), "inputs": digest.hexdigest()[:32],
            "weights": list(weights), "code": code_versions(kind)}


def key_of(record: dict[str, Any], length: int = 16) -> str:
    """The key a record stands for (so a stored record can be checked against the current code)."""
    blob = json.dumps(record, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


def stamped(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with the key it stands for: what a store keeps in its ``identity.json``."""
    return {"key": key_of(record), **record}


def artifact_key(kind: str, config: Any = None, inputs: Iterable[str] = (), weights: Iterable[str] = (),
                 length: int = 16) -> str:
    """The one cache key: ``kind``'s config content, input bytes, weights and code behaviour versions."""
    return key_of(artifact_record(kind, config, inputs, weights), length)


def is_current(record: dict[str, Any], key: str) -> bool:
    """Whether a stored ``record`` is reachable by today's code: its key format and behaviour versions."""
    try:
        current = {**record, "code": code_versions(record["kind"])}
    except (KeyError, TypeError):
        return False
    return record.get("code") == current["code"] and key_of(record, len(key)) == key


def file_identity(*paths: Path) -> str:
    """A short hash of files' bytes, memoised on (path, size, mtime) so a call per cache key costs one
    stat."""
    stats = []
    for path in paths:
        st = path.stat() if path.exists() else None
        stats.append((str(path), st.st_size if st else -1, st.st_mtime_ns if st else -1))
    return _hash_files(tuple(stats))


@functools.lru_cache(maxsize=32)
def _hash_files(stats: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for path, size, _ in stats:
        digest.update(Path(path).read_bytes() if size >= 0 else b"absent")
    return digest.hexdigest()[:16]


def folder_identity(name: str, folder: str | Path, pattern: str = "*") -> str:
    """``name@hash`` of a model folder's files (resume checkpoints excluded): what a model trained here
    is, so every cache keyed on it treats a retrained model as a new model."""
    folder = Path(folder).expanduser()
    files = sorted(p for p in folder.rglob(pattern)
                   if p.is_file() and "checkpoint" not in p.relative_to(folder).as_posix()
                   and not p.name.startswith("."))  # the output stamp changes on every rewrite
    return f"{name}@{file_identity(*files)}"


@functools.cache
def source_commit() -> str | None:
    """The git commit of the checkout this code runs from (``+dirty`` when its tracked files differ), or
    ``None`` outside a git checkout (an installed wheel). Results record it; caches never key on it."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")
