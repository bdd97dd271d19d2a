"""Cached repository factories (one instance per process) and one switch to forget them all."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

T = TypeVar("T")
_factories: list[Any] = []


def cached_repository(factory: Callable[[], T]) -> Callable[[], T]:
    """Decorate a zero-argument factory so it builds its repository once per process."""
    cached = lru_cache(maxsize=1)(factory)
    _factories.append(cached)
    return cached


def reset_repositories() -> None:
    """Forget every built repository (tests and the local stack re-bind tables to a new endpoint)."""
    for cached in _factories:
        cached.cache_clear()
