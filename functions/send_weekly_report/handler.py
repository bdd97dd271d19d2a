"""Weekly worker (Monday 07:00 UTC): the last full Monday-to-Sunday week's report, e-mailed once per recipient.

Event (optional): ``{"week": "YYYY-Www"}`` sends (or completes) that week's report instead. Re-running a week
sends only to recipients who have not had it (MusterReportLog).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.observability import logger, metrics, tracer
from shared.services.reports import run_weekly_report


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_weekly_report(event)
