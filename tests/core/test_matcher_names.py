"""A matcher name is a registered name, a hub id or a path, decided by its spelling, never by the disk."""

from __future__ import annotations

import pytest

from steervis.errors import SteervisError
from steervis.matchers import MATCHERS, build_matcher, is_customized


def test_a_bare_name_is_never_looked_up_on_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mymatcher").mkdir()
    (tmp_path / "mymatcher" / "card.json").write_text("{}")  # a stray folder that looks customized
    with pytest.raises(SteervisError, match="Unknown matcher 'mymatcher'"):
        MATCHERS.get("mymatcher")
    assert not is_customized("mymatcher") and is_customized("./mymatcher")


def test_a_path_that_holds_no_matcher_is_one_sentence(tmp_path):
    with pytest.raises(SteervisError, match="is no matcher's folder"):
        build_matcher(str(tmp_path / "nothing-here"))
    assert MATCHERS.get("conse").__name__ == "ConSEMatcher"  # registered names come first
