"""Fixtures shared by every tier. AWS is never reached: credentials are fake and moto stands in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Set before anything creates a boto3 client; fake credentials mean a mistake can never reach real AWS.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("MUSTER_ENDPOINT_URL", None)

REFERENCE_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def reference_data() -> Path:
    """The team's reference folder of recorded payloads (``../shared/data``), used as read-only fixtures."""
    if not REFERENCE_DATA.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return REFERENCE_DATA


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A clean settings cache before and after a test that changes the environment."""
    from shared.config import reset_settings

    reset_settings()
    yield monkeypatch
    reset_settings()
