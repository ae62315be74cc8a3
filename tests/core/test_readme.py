"""The README's Python API tour runs: the same snippet on a toy pool and a tiny random CLIP (each swap below
must match the README exactly once, so an edited README breaks this test instead of drifting from it)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
SWAPS = {'base = "conse"': 'base = "tiny-clip"', '["dog", "cat", "guitar"], k=50': '["circle", "star"], k=4'}


def snippet(title: str) -> str:
    section = README.read_text().split(f"### {title}", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_pool_and_react_tour_runs(tmp_home, capsys):
    from steervis.data.pool import pool_root
    from steervis.data.synthetic import make_toy_pool

    make_toy_pool(pool_root())
    code = snippet("Python API: the knowledge pool and REACT")
    for old, new in SWAPS.items():
        assert code.count(old) == 1, old
        code = code.replace(old, new)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert (printed[0].startswith("36 {'source': 'toy'") and "of a" in printed[1]
            and printed[2].endswith("(1, 16)"))
