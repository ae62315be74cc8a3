"""The web page's fixtures: a runs root with finished and unfinished runs, a private STEERVIS_HOME."""

from __future__ import annotations

import pytest


@pytest.fixture
def runs_root(tmp_path):
    """runs/dg-quick (finished: report.html), runs/sweep/uda-a (finished, deeper), runs/killed (no report),
    and runs/escape, a link to a finished-looking folder outside the root."""
    root = tmp_path / "runs"
    for run in ("dg-quick", "sweep/uda-a"):
        (root / run).mkdir(parents=True)
        (root / run / "report.html").write_text(f"<html><body><h1>{run}</h1><script>parent.pwned = 1</script>"
                                                "</body></html>")
    (root / "killed").mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "report.html").write_text("<html>secret</html>")
    (root / "escape").symlink_to(outside)
    return root


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A private STEERVIS_HOME for the module (image features and descriptions cached there)."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("home")
        mp.setenv("STEERVIS_HOME", str(path))
        yield path
