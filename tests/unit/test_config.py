"""Configuration is read once into a typed object; bad values are clear errors naming the variable."""

from __future__ import annotations

import re

import pytest

from shared.config import load_settings
from shared.errors import ConfigurationError


def test_defaults_without_any_environment() -> None:
    settings = load_settings({})
    assert settings.region == "us-east-1"
    assert settings.endpoint_url is None
    assert settings.default_currency == "USD"
    assert settings.langfuse.lookback_hours == 3
    assert settings.table_name("MusterAgent") == "MusterAgent"


def test_values_from_the_environment() -> None:
    settings = load_settings(
        {
            "AWS_REGION": "eu-west-1",
            "MUSTER_ENDPOINT_URL": "http://127.0.0.1:5050",
            "MUSTER_AGENT_TABLE": "prod-agents",
            "MUSTER_DEFAULT_CURRENCY": "eur",
            "LANGFUSE_HOST": "https://langfuse.example.com/",
            "LANGFUSE_PAGE_LIMIT": "5000",
            "MUSTER_LLM_LOOKBACK_HOURS": "6",
        }
    )
    assert settings.region == "eu-west-1"
    assert settings.table_name("MusterAgent") == "prod-agents"
    assert settings.default_currency == "EUR"
    assert settings.langfuse.host == "https://langfuse.example.com"
    assert settings.langfuse.page_limit == 1000  # Langfuse's maximum
    assert settings.langfuse.lookback_hours == 6


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MUSTER_LLM_LOOKBACK_HOURS", "three", "must be an integer"),
        ("MUSTER_LLM_LOOKBACK_HOURS", "0", "must be >= 1"),
        ("LANGFUSE_HOST", "cloud.langfuse.com", "http(s) URL"),
        ("ECB_BASE_URL", "ftp://ecb", "http(s) URL"),
        ("MUSTER_DEFAULT_CURRENCY", "XYZ", "MUSTER_DEFAULT_CURRENCY"),
        ("MUSTER_FX_DAY_OVER_DAY_LIMIT", "ten percent", "decimal"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        load_settings({name: value})
