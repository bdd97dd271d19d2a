"""Daily cloud cost worker: ``{"from": DATE, "to": DATE}`` (both optional) → one Cost Explorer sync."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.domain.cloud import parse_window_event
from shared.observability import logger, metrics, tracer
from shared.services.cloud_costs import fetch_cloud_costs


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    window_from, window_to = parse_window_event(event)
    return fetch_cloud_costs(window_from, window_to).summary()
