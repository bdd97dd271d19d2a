"""Integration fixtures: moto in-process for DynamoDB and friends, tables created from the shared definitions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.config import Settings
from tests.integration.moto_stack import moto_tables


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """moto in-process with every table created; yields the bound settings."""
    monkeypatch.delenv("MUSTER_ENDPOINT_URL", raising=False)
    with moto_tables() as settings:
        yield settings
