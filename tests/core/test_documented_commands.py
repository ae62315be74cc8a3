"""Every ``steervis ...`` command line in the README and docs/*.md parses in full: each runs through
``steervis.cli.main`` with ``--print-config`` (which every verb has) and must exit 0 having done no work, so
a documented verb, flag, preset or config key that no longer exists fails here, not in a reader's shell.

Lines are taken from fenced and indented code blocks and from inline code; backslash continuations are
joined, ``a && b`` and pipes split, comments dropped. Placeholders (``DIR``, ``FILE``, ``<a folder>``) become
a temporary path, ``N`` a number; ``[--flag N]`` is read with the flag given.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PLACEHOLDER = re.compile(r"^(DIR|FILE|PATH|X|ID|OUT|…)$|^<[^>]*>$")


def code_pieces(text: str) -> list[str]:
    """Fenced and indented code lines and inline code spans, continuations joined; a table row whose exit
    column is not 0 documents a refused input (docs/RELIABILITY.md) and is left out."""
    text = re.sub(r"\\\n {0,4}", "", text)  # backslash continuations (and an indented block's indent)
    pieces, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if line.startswith("|") and any(re.fullmatch(r"\s*[1-9]\d*\s*", c) for c in line.split("|")):
            continue
        if fenced or line.startswith("    "):
            pieces.append(line)
        else:
            pieces += re.findall(r"`([^`]+)`", re.sub(r"\\\|[^\s\]`]*", "", line))  # `a\|b` in a table: a
    return pieces


def command_lines(text: str) -> list[str]:
    """The ``steervis VERB ...`` commands a Markdown text shows, one string each."""
    found = []
    for piece in code_pieces(text):
        for part in re.split(r"&&|\|(?![^<]*>)|;", piece):
            part = re.sub(r"\s+#.*$", "", part.strip().removeprefix("$ ")).strip()
            part = re.sub(r"^(\w+=\S+\s+)*(/usr/bin/time -v\s+)?", "", part)  # env settings, timing
            words = part.split()
            if (len(words) >= 2 and words[0] == "steervis" and re.fullmatch(r"[a-z][\w-]*", words[1])
                    and ": error:" not in part):
                found.append(part)
    return list(dict.fromkeys(found))


def documented() -> list[tuple[str, str]]:
    return [(doc.name, line) for doc in DOCS for line in command_lines(doc.read_text())]


def ids(pair: tuple[str, str]) -> str:
    return f"{pair[0]}:{' '.join(pair[1].split()[:4])}"


def argv_of(line: str, tmp: Path) -> list[str]:
    """The command's arguments with every placeholder made concrete."""
    line = re.sub(r"\[(--[^]]*)\]", r"\1", re.sub(r"<[^>]*>", "<placeholder>", line))  # [--flag N]
    words = []
    for word in shlex.split(line)[1:]:
        words.append(str(tmp / "placeholder") if PLACEHOLDER.match(word) else "2" if word == "N" else word)
    return words


def test_the_docs_show_commands_of_every_verb():
    verbs = {line.split()[1] for _, line in documented()}
    assert {"bench", "caption", "chat", "data", "demo", "describe", "fit", "models", "predict", "react",
            "retrieve", "setup", "study"} <= verbs


@pytest.mark.parametrize(("doc", "line"), documented(), ids=[ids(p) for p in documented()])
def test_a_documented_command_parses_in_full(doc, line, tmp_home, tmp_path, monkeypatch, capsys):
    from steervis.cli import main

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code = main([*argv_of(line, work), "--print-config"])
    err = capsys.readouterr().err
    assert code == 0, f"{doc}: {line}\n{err}"
    written = [p for p in [*tmp_home.rglob("*"), *work.rglob("*")] if not p.is_dir()]
    assert not written, f"{line}: it did some work, wrote {written[0]}"


@pytest.mark.parametrize(("argv", "said"), [
    (["describe", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["fit", "--preset", "decide-quik"], "Unknown preset 'decide-quik'"),
    (["react", "build", "--set", "settings.hiden=8"], "Unknown config key 'settings.hiden'. Did you mean"),
    (["caption", "x.png", "--set", "batch_size=0"], "batch_size: 0 is out of range"),
    (["bench", "retrieval", "--set", "kk=3"], "Unknown config key 'kk'. Did you mean 'k'?"),
    (["bench", "retrieval", "--opt", "k=3"], "write --set k=3"),
])
def test_an_unknown_flag_preset_or_key_fails_in_one_line(argv, said, tmp_home, capsys):
    from steervis.cli import main

    with pytest.raises(SystemExit) if "unrecognized" in said else _nothing():
        assert main([*argv, "--print-config"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert said in err[-1] and (len(err) == 1 or err[0].startswith("usage:"))


def _nothing():
    import contextlib

    return contextlib.nullcontext()
