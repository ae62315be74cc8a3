"""The project speaks of itself alone: no line narrates how it was built.

Code, tests, docs and the README name papers, systems and commands; they never point at the work items,
planning documents or working periods the project was built in (a planning document or work item by number,
a working period, a notebook's to-do line). Git history keeps that story.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ["src", "tests", "docs", "scripts", "README.md", "Makefile", "pyproject.toml"]
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ""}
HISTORY = re.compile(
    r"\bseed[ -]?(file )?0\d\d\b"  # planning documents by number
    r"|\b(issue|ticket)s? #?\d+\b"  # work items by number
    r"|\b(this|previous|earlier|last|next|work|helper) (session|episode)s?\b"  # working periods
    r"|\bnext[ ]check\b|\bopen[ ]question:",  # a notebook's to-do lines
    re.IGNORECASE,
)


def scanned_files() -> list[Path]:
    files = []
    for entry in SCANNED:
        path = ROOT / entry
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        files += [p for p in candidates if p.suffix in SUFFIXES and "__pycache__" not in p.parts]
    return [p for p in files if p != Path(__file__).resolve()]


def history_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if HISTORY.search(line)]


def test_no_line_narrates_the_projects_own_history():
    found = [f"{p.relative_to(ROOT)}: {line[:100]}" for p in scanned_files()
             for line in history_lines(p.read_text(errors="replace"))]
    assert not found, "work history in the project:\n" + "\n".join(found[:20])


def test_the_check_sees_what_it_forbids():
    # assembled here, so this file does not itself hold what it forbids
    planted = ["as " + "seed 0" + "03 shows", "fixed in " + "iss" + "ue 28", "measured this " + "session",
               "Next " + "check: rerun", "Open " + "question: why"]
    assert [history_lines(line) for line in planted] == [[line] for line in planted]
    fine = ["VLMClassifier's open question", "seed 0", "an RL episode of GRPO", "torch issue tracker"]
    assert not any(history_lines(line) for line in fine)
