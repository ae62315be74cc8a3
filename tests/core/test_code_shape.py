"""Every module of the library readable in a sitting: at most 300 lines a module, 60 a function, 110 columns
a line (ruff's E501 at the project's line length)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "steervis"
MODULES = sorted(SRC.rglob("*.py"))
MAX_MODULE, MAX_FUNCTION, MAX_COLUMNS = 300, 60, 110


def test_no_module_is_longer_than_300_lines():
    lines = {str(p.relative_to(SRC)): len(p.read_text().splitlines()) for p in MODULES}
    long = {name: n for name, n in lines.items() if n > MAX_MODULE}
    assert not long, f"split these into modules that each say what they are: {long}"


def test_no_function_is_longer_than_60_lines():
    long = [f"{p.relative_to(SRC)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for p in MODULES for node in ast.walk(ast.parse(p.read_text()))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION]
    assert not long, "\n".join(long)


def test_no_line_is_wider_than_110_columns():
    wide = [f"{p.relative_to(SRC)}:{i}" for p in MODULES
            for i, line in enumerate(p.read_text().splitlines(), 1) if len(line) > MAX_COLUMNS]
    assert not wide, f"{len(wide)} lines: " + ", ".join(wide[:20])


def test_the_checks_see_every_module():
    assert len(MODULES) > 150 and all(p.suffix == ".py" for p in MODULES)
