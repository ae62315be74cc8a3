"""docs/RESULTS.md as committed: every table generated from its summary, and the README quoting only them."""

from __future__ import annotations

import re
from pathlib import Path

from steervis.studies.results import BLOCK, results

ROOT = Path(__file__).resolve().parents[2]
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")


def test_every_table_of_results_is_its_summary_rendered():
    report = results(str(ROOT / "docs"), check=True)  # raises on a stale or hand-typed table
    assert report["tables"], "RESULTS.md holds no generated table"


def test_readme_results_quote_generated_tables_only():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Results\n", 1)[1].split("\n## ", 1)[0]
    tables = "\n".join(m["body"] for m in BLOCK.finditer((ROOT / "docs" / "RESULTS.md").read_text()))
    quoted = {n for n in NUMBER.findall(section) if "." in n}  # accuracies are written with one decimal
    assert quoted, "the README's Results section quotes no number"
    missing = sorted(n for n in quoted if not re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", tables))
    assert not missing, f"README quotes numbers no generated table holds: {missing}"
