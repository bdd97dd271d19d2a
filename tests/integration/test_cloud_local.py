"""Local mode: the demo cloud connection against a real moto server, the worker through `muster-costs run`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from moto.server import ThreadedMotoServer

from shared.cli.run import invoke_worker
from shared.config import get_settings, reset_settings
from shared.dal.binding import bind_model
from shared.dal.cloud import cloud_connection_repository, cloud_cost_repository
from shared.dal.factory import reset_repositories
from shared.domain.cloud import ConnectionStatus, default_window, unallocated_agent_id
from shared.local.cloud_demo import DEMO_CONNECTION_ID, DEMO_LINKS, setup_cloud_demo
from tests.integration.test_cloud_support import CLOUD_MODELS


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("MUSTER_ENDPOINT_URL", url)
    reset_settings()
    reset_repositories()
    for model in CLOUD_MODELS:
        bind_model(model, get_settings())
        model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    yield url
    server.stop()
    reset_repositories()
    reset_settings()


def test_demo_against_the_moto_server_through_the_run_command(moto_server: str) -> None:
    # Given the demo connection and CE answers queued for the worker's default window
    today = datetime.now(UTC).date()
    cloud = get_settings().cloud
    window = default_window(today, cloud.lookback_days, cloud.restatement_days)
    setup_cloud_demo(moto_server, window.start, window.end)
    # When the worker runs twice through its handler, as `muster-costs run cloud-costs` does
    first = invoke_worker("cloud-costs")
    second = invoke_worker("cloud-costs")
    # Then the assumed-role CE client got the demo account's queue, and the re-run changed nothing
    assert first["connectionsSucceeded"] == 1 and first["costExplorerRequests"] == 1
    assert first["rowsWritten"] == 4 * window.days
    assert second["rowsWritten"] == 0 and second["rowsUnchanged"] == first["rowsWritten"]
    repo = cloud_cost_repository()
    for agent_id in [*DEMO_LINKS, unallocated_agent_id(DEMO_CONNECTION_ID)]:
        assert len(repo.cloud_costs_for_agent(agent_id, window.start, window.end)) == window.days
    connection = cloud_connection_repository().get_connection(DEMO_CONNECTION_ID)
    assert connection is not None and connection.status is ConnectionStatus.OK
