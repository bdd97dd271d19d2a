"""Integration fixtures: moto in-process for DynamoDB and friends, tables created from the shared definitions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from shared.config import Settings, get_settings, reset_settings


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """moto in-process with every table created; yields the bound settings."""
    from shared.dal.factory import reset_repositories
    from shared.dal.registry import create_all_tables

    monkeypatch.delenv("MUSTER_ENDPOINT_URL", raising=False)
    reset_settings()
    reset_repositories()
    with mock_aws():
        settings = get_settings()
        create_all_tables(settings)
        yield settings
    reset_repositories()
    reset_settings()
