"""moto in-process with the project's tables: the one way integration tests stand up DynamoDB."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from moto import mock_aws

from shared.config import Settings, get_settings, reset_settings
from shared.dal.factory import reset_repositories
from shared.dal.registry import create_all_tables


@contextmanager
def moto_tables(models: Iterable[Any] | None = None) -> Iterator[Settings]:
    """Every table, or only ``models``' (small tables keep moto's Query fast); settings and repositories fresh."""
    reset_settings()
    reset_repositories()
    with mock_aws():
        settings = get_settings()
        create_all_tables(settings, models)
        yield settings
    reset_repositories()
    reset_settings()
