"""The reliability tests share one workspace (its toy datasets and its fitted tiny adapter) and one warm
CLI server for the session; each test records its row for the table that test_table.py compares with
docs/RELIABILITY.md."""

from __future__ import annotations

import pytest
from warm_cli import WarmCli
from workspace import COLD, Outcome, Workspace, base_env


def pytest_configure(config):
    config.addinivalue_line("markers",
                            "row(name, title, group): the row of docs/RELIABILITY.md a test checks")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name == "test_table.py")  # the table once every row is in


@pytest.fixture(scope="session")
def ws(tmp_path_factory) -> Workspace:
    """The session's workspace; commands run forked from a warm server unless STEERVIS_RELIABILITY_COLD."""
    root = tmp_path_factory.mktemp("reliability")
    server = tmp_path_factory.mktemp("warm-cli")
    cli = None if COLD else WarmCli({**base_env(), "STEERVIS_HOME": str(server / "home")}, server)
    yield Workspace(root, cli)
    if cli is not None:
        cli.close()


@pytest.fixture(scope="session")
def rows() -> dict[str, tuple[str, str, Outcome]]:
    """Every row recorded in this pytest session: name → (group, title, outcome)."""
    return {}


@pytest.fixture
def record(request, rows, ws):
    """``record(outcome)``: keep the test's row for the table, then fail unless it holds what it claims."""
    mark = request.node.get_closest_marker("row")

    def keep(outcome: Outcome) -> Outcome:
        outcome.seen = outcome.seen.replace(str(ws.root), "<tmp>")  # the same table on every machine
        rows[mark.kwargs["name"]] = (mark.kwargs["group"], mark.kwargs["title"], outcome)
        assert outcome.ok, f"{mark.kwargs['title']}: {outcome}"
        return outcome

    return keep
