"""Binds PynamoDB model classes to the configured table names, region and endpoint, at one point."""

from __future__ import annotations

from typing import Any

from shared.config import Settings


def bind_model(model: Any, settings: Settings) -> None:
    """Point one PynamoDB model class at its table; drops any cached connection (endpoint may have changed)."""
    model.Meta.table_name = settings.table_name(model.SPEC.logical_name)
    model.Meta.region = settings.region
    model.Meta.host = settings.endpoint_url
    model._connection = None
