"""Langfuse observations, page by page (``GET /api/public/v2/observations``; v1 for self-hosted Langfuse v3).

Request and response shapes follow Langfuse's OpenAPI document (``ObservationsV2Response``,
``ObservationsViews``). Pages are yielded as lists of row dicts, deduplicated by id, so callers can stream
them into aggregates without holding the window in memory.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from shared.config import LangfuseConfig
from shared.errors import ConfigurationError, SourceError, SourceNotFoundError
from shared.sources.http import RetryingHttp

OBSERVATION_TYPES = ("GENERATION", "EMBEDDING")
V2_PATH = "/api/public/v2/observations"
V1_PATH = "/api/public/observations"
V1_TRACE_PATH = "/api/public/traces/{trace_id}"
V2_FIELDS = "core,model,usage,trace_context"
V1_PAGE_LIMIT = 100  # Langfuse enforces at most 100 rows per v1 page
TRACE_NAME_CACHE_SIZE = 50_000


def iso_millis(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class FetchStats:
    pages: int = 0
    rows: int = 0
    duplicates: int = 0
    api_version: str = "v2"
    trace_lookups: int = 0


class LangfuseClient:
    """Reads generation and embedding observations in a half-open time window."""

    def __init__(
        self,
        config: LangfuseConfig,
        public_key: str,
        secret_key: str,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not public_key or not secret_key:
            raise ConfigurationError("Langfuse public and secret keys are required")
        self.host = config.host.rstrip("/")
        self.page_limit = config.page_limit
        self._auth = (public_key, secret_key)
        self.http = RetryingHttp("langfuse", config.http, session=session, sleep=sleep)
        self.stats = FetchStats()
        self._use_v1 = False
        self._trace_names: OrderedDict[str, str | None] = OrderedDict()

    @property
    def requests_made(self) -> int:
        return self.http.stats.requests

    def observation_pages(self, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        """Pages of rows with ``start <= startTime < end`` for every observation type we price."""
        for observation_type in OBSERVATION_TYPES:
            if not self._use_v1:
                try:
                    yield from self._dedupe(self._v2_pages(observation_type, start, end))
                    continue
                except _V2Unavailable:
                    self._use_v1 = True
                    self.stats.api_version = "v1"
            yield from self._dedupe(self._v1_pages(observation_type, start, end))

    def _dedupe(self, pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
        # Duplicates (unmerged writes) share the sort key (startTime, traceId hash, id), so they sit next to
        # each other: remembering the previous page's ids catches them with memory bounded by two pages.
        previous: set[Any] = set()
        for page in pages:
            current: set[Any] = set()
            unique = []
            for row in page:
                row_id = row.get("id") if isinstance(row, dict) else None
                if row_id is not None and (row_id in current or row_id in previous):
                    self.stats.duplicates += 1
                    continue
                current.add(row_id)
                unique.append(row)
            previous = current
            self.stats.rows += len(unique)
            yield unique

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        response = self.http.get(self.host + path, params=params, auth=self._auth)
        try:
            return response.json()
        except ValueError as exc:
            raise SourceError(f"langfuse: {path} answered a body that is not JSON") from exc

    def _v2_pages(self, observation_type: str, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        params: dict[str, Any] = {
            "type": observation_type,
            "fields": V2_FIELDS,
            "fromStartTime": iso_millis(start),
            "toStartTime": iso_millis(end),
            "limit": self.page_limit,
        }
        first = True
        while True:
            try:
                body = self._get(V2_PATH, params)
            except SourceNotFoundError as exc:
                if first:
                    raise _V2Unavailable from exc
                raise
            first = False
            data, meta = _page_parts(body, V2_PATH)
            self.stats.pages += 1
            yield data
            cursor = meta.get("cursor")
            if not cursor:
                return
            if not isinstance(cursor, str):
                raise SourceError(f"langfuse: {V2_PATH} returned a cursor that is not a string")
            params = {**params, "cursor": cursor}

    def _v1_pages(self, observation_type: str, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        page = 1
        while True:
            params = {
                "type": observation_type,
                "fromStartTime": iso_millis(start),
                "toStartTime": iso_millis(end),
                "page": page,
                "limit": min(self.page_limit, V1_PAGE_LIMIT),
            }
            data, meta = _page_parts(self._get(V1_PATH, params), V1_PATH)
            self.stats.pages += 1
            yield [self._with_trace_name(row) for row in data]
            total_pages = meta.get("totalPages")
            if not isinstance(total_pages, int) or page >= total_pages or not data:
                return
            page += 1

    def _with_trace_name(self, row: Any) -> Any:
        """v1 rows carry no trace name: look it up once per trace id (bounded cache)."""
        if not isinstance(row, dict) or row.get("traceName") or not isinstance(row.get("traceId"), str):
            return row
        return {**row, "traceName": self._trace_name(row["traceId"])}

    def _trace_name(self, trace_id: str) -> str | None:
        if trace_id in self._trace_names:
            self._trace_names.move_to_end(trace_id)
            return self._trace_names[trace_id]
        self.stats.trace_lookups += 1
        try:
            body = self._get(V1_TRACE_PATH.format(trace_id=quote(trace_id, safe="")), {"fields": "core"})
        except SourceNotFoundError:
            body = {}
        name = body.get("name") if isinstance(body, dict) else None
        self._trace_names[trace_id] = name if isinstance(name, str) and name else None
        if len(self._trace_names) > TRACE_NAME_CACHE_SIZE:
            self._trace_names.popitem(last=False)
        return self._trace_names[trace_id]


class _V2Unavailable(Exception):
    """v2 answered 404 on the first page: a self-hosted Langfuse v3, which only has v1."""


def _page_parts(body: Any, path: str) -> tuple[list[Any], dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise SourceError(f"langfuse: {path} answered a page without a 'data' list")
    meta = body.get("meta") or {}
    if not isinstance(meta, dict):
        raise SourceError(f"langfuse: {path} answered a page whose 'meta' is not an object")
    return body["data"], meta
