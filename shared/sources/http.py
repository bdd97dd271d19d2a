"""One retrying HTTP helper for every external source (Langfuse, ECB, BNM, BI).

Bounded attempts with exponential backoff on 429, 5xx, timeouts and connection errors; a ``Retry-After``
header is honoured (capped). Any other non-2xx, including redirects, is a failure. Errors leave as
``SourceError`` (``SourceNotFoundError`` for 404) raised ``from`` the cause.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from shared.config import HttpPolicy
from shared.errors import SourceError, SourceNotFoundError
from shared.observability import logger

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass
class HttpStats:
    requests: int = 0
    retries: int = 0


def retry_after_seconds(value: str | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


class RetryingHttp:
    """GET with bounded retries. ``sleep`` is injectable so tests don't wait."""

    def __init__(
        self,
        source: str,
        policy: HttpPolicy,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self.policy = policy
        self.session = session or requests.Session()
        self.sleep = sleep
        self.stats = HttpStats()

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> requests.Response:
        """Return a 2xx response, or raise after the last attempt."""
        last_problem = "no attempt made"
        for attempt in range(1, self.policy.max_attempts + 1):
            self.stats.requests += 1
            try:
                response = self.session.get(
                    url,
                    params=params,
                    headers=dict(headers or {}),
                    auth=auth,
                    timeout=(self.policy.connect_timeout, self.policy.read_timeout),
                    allow_redirects=False,
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
                if attempt == self.policy.max_attempts:
                    raise SourceError(f"{self.source}: {last_problem} after {attempt} attempts") from exc
                self._back_off(attempt, None, last_problem)
                continue
            status = response.status_code
            if 200 <= status < 300:
                return response
            if status == 404:
                raise SourceNotFoundError(f"{self.source}: 404 for {response.url}")
            last_problem = f"HTTP {status}"
            if status not in RETRYABLE_STATUS or attempt == self.policy.max_attempts:
                raise SourceError(f"{self.source}: {last_problem} for {response.url} after {attempt} attempt(s)")
            self._back_off(attempt, retry_after_seconds(response.headers.get("Retry-After")), last_problem)
        raise SourceError(f"{self.source}: {last_problem}")  # unreachable: the loop returns or raises

    def _back_off(self, attempt: int, retry_after: float | None, problem: str) -> None:
        delay = min(self.policy.backoff_base * (2 ** (attempt - 1)), self.policy.backoff_max)
        if retry_after is not None:
            delay = min(max(delay, retry_after), self.policy.max_retry_after)
        self.stats.retries += 1
        logger.warning("retrying source request", source=self.source, attempt=attempt, problem=problem, delay=delay)
        self.sleep(delay)
