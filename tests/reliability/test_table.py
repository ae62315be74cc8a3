"""docs/RELIABILITY.md is the table the reliability tests render (`make reliability-doc` rewrites it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from table import differences, merge, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "RELIABILITY.md"
# Set by `make reliability-doc`: write the rendered table to docs/RELIABILITY.md instead of comparing.
WRITE = "STEERVIS_RELIABILITY_DOC"

pytestmark = pytest.mark.slow


def test_the_doc_is_the_table_the_tests_rendered(rows, tmp_path_factory):
    if not rows:
        pytest.skip("no reliability row ran in this pytest session")
    text = render(rows)
    rendered = tmp_path_factory.mktemp("table") / "RELIABILITY.md"
    rendered.write_text(text)
    doc = DOC.read_text() if DOC.exists() else ""
    if os.environ.get(WRITE):
        ran, had = set(_titles(text)), set(_titles(doc))
        assert had <= ran or ran <= had, "new rows: run every reliability test to place them in the table"
        # Every row of the file ran: the rendered table; else (a partial run) only the rows that ran change.
        DOC.write_text(text if had <= ran else merge(doc, text))
        return
    problems = differences(doc, text)
    assert not problems, (f"{DOC} is not the table the tests rendered ({rendered}); `make reliability-doc` "
                          "rewrites it:\n" + "\n".join(problems))


def _titles(text: str) -> list[str]:
    return [line[2:].split(" | ")[0] for line in text.splitlines()
            if line.startswith("| ") and not line.startswith(("| input |", "|---"))]
