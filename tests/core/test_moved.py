"""Python users of 0.1 are told where each module went: the README's table and the ImportError agree."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from steervis._moved import MOVED, new_home

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTION = README.split("## Moved in 0.2", 1)[1].split("\n## ", 1)[0]
TABLE, NAMES = SECTION.split("Names that moved to another module", 1)
ROWS = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([\w.]+)` \| (.+) \|$", TABLE, re.M)}


def test_the_readme_table_lists_every_move_and_its_new_home():
    assert set(ROWS) == set(MOVED)
    for old, new in MOVED.items():
        assert re.findall(r"steervis[\w.]*", new) == re.findall(r"steervis[\w.]*", ROWS[old]), old


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_import_path_raises_an_import_error_naming_its_new_home(old):
    package = old.rsplit(".", 1)[0] if old.rsplit(".", 1)[0] in MOVED else old
    with pytest.raises(ImportError, match=re.escape(f"{package} moved to {MOVED[package].split(' ')[0]}")):
        importlib.import_module(old)


def test_a_module_that_kept_its_name_is_found_under_its_new_package():
    assert new_home("steervis.vlm.model") == "steervis.llava.model"
    assert (importlib.import_module(new_home("steervis.retrieval.retrieve")).__name__
            == "steervis.react.retrieve")
    assert new_home("steervis.lm.model") is None  # not moved: imported as ever


def resolve(dotted: str) -> object:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            found = getattr(found, attr)
        return found
    raise ImportError(dotted)


def test_every_name_the_readme_says_moved_is_where_it_says():
    homes = re.findall(r"^\| .+ \| `(steervis\.[\w.]+)`", NAMES, re.M)
    assert len(homes) >= 12
    for dotted in homes:
        assert resolve(dotted) is not None, dotted
